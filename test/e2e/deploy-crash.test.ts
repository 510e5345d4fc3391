/**
 * Crash safety of the generation store (issue 12: "SIGKILL at random moments of
 * a deploy leaves /run/secrets pointing at a complete generation, never a
 * partial one"). A child process (the built dist/, as deploy runs it) builds,
 * switches and prunes generations of many files in a loop, printing a line at
 * each step; the test SIGKILLs it right after a randomly chosen line (so at a
 * different point of the work each time: the child keeps going while the line
 * travels), then checks the tree, and starts the next child on the same tree.
 * No clock decides anything: kills follow the child's own output.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it, onTestFinished } from "vitest"

import { tempDir } from "../helpers/tmp.js"
import { watchProcess, type WatchedProcess } from "../helpers/watched-process.js"

const DIST = resolve(import.meta.dirname, "../../dist/delivery/generations.js")
const FILES = 30
const GENERATIONS_PER_CHILD = 3
const KILLS = 14

/** The child: node deployer.mjs ROOT RUN-ID. Each line it prints marks a step done. */
const CHILD = `
import { buildGeneration, pruneGenerations, switchGeneration, withStoreLock } from ${JSON.stringify(pathToFileURL(DIST).href)}
const [root, runId] = process.argv.slice(2)
const store = { root, base: "secrets", keep: 3 }
const say = (line) => process.stdout.write(line + "\\n")
for (let g = 0; g < ${GENERATIONS_PER_CHILD}; g++) {
    const items = []
    for (let i = 0; i < ${FILES}; i++) {
        const content = Buffer.from(\`run \${runId} round \${g} file \${i} \` + "x".repeat((i * 997) % 5000))
        items.push({ name: i % 3 === 0 ? \`dir\${i % 4}/f\${i}\` : \`f\${i}\`, content, uid: i % 2 === 0 ? 1 : 0, gid: i % 5 === 0 ? 65534 : 0, mode: i % 2 === 0 ? 0o440 : 0o400,
            ...(i === 1 ? { link: \`/etc/app/link-\${(Number(runId) + g) % 3}\` } : {}), restartUnits: [], reloadUnits: [] })
    }
    await withStoreLock(store, async () => {
        say("building")
        const n = await buildGeneration(store, items, { afterItem: (name) => say("wrote " + name) })
        say("built " + n)
        await switchGeneration(store, n)
        say("switched " + n)
        say("pruned " + (await pruneGenerations(store)).join(","))
    })
}
say("done")
`

/** A seeded PRNG (mulberry32), so that a failure can be replayed from the seed in its message. */
function prng(seed: number): () => number {
    let a = seed >>> 0
    return () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}

/** The invariant: the link (if any) names a real, complete generation whose every file matches its manifest. */
function checkActive(root: string, context: string): number | undefined {
    const link = join(root, "run/secrets")
    if (!existsSync(link) && !isLink(link)) return undefined
    const target = readlinkSync(link)
    const m = /^secrets\.d\/([1-9][0-9]*)$/.exec(target)
    expect(m, `${context}: link text ${target}`).not.toBeNull()
    const dir = join(root, "run/secrets.d", m?.[1] ?? "")
    expect(lstatSync(dir).isDirectory(), `${context}: ${dir} is a directory`).toBe(true)
    const manifest = JSON.parse(readFileSync(join(dir, ".manifest.json"), "utf8")) as { generation: number; items: { name: string; sha256: string; mode: string; uid: number; gid: number }[] }
    expect(manifest.generation, context).toBe(Number(m?.[1]))
    expect(manifest.items.length, context).toBe(FILES)
    for (const item of manifest.items) {
        const path = join(dir, item.name)
        const st = lstatSync(path)
        expect(st.isFile(), `${context}: ${item.name}`).toBe(true)
        expect([(st.mode & 0o7777).toString(8).padStart(4, "0"), st.uid, st.gid], `${context}: ${item.name}`).toEqual([item.mode, item.uid, item.gid])
        expect(createHash("sha256").update(readFileSync(path)).digest("hex"), `${context}: ${item.name}`).toBe(item.sha256)
    }
    // Nothing in it beyond what the manifest lists (and their directories).
    const listed = new Set(manifest.items.map((i) => i.name))
    const walk = (at: string, rel: string): string[] =>
        readdirSync(at, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(at, e.name), `${rel}${e.name}/`) : [`${rel}${e.name}`]))
    expect(walk(dir, "").filter((f) => f !== ".manifest.json" && !listed.has(f)), context).toEqual([])
    return manifest.generation
}

/**
 * A temp dir on /dev/shm when there is one: /run is a tmpfs on real hosts, and
 * there the fsyncs cost nothing, which keeps this test short on a loaded disk.
 */
function ramDir(): string {
    try {
        const dir = mkdtempSync("/dev/shm/secrets-test-")
        onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
        return dir
    } catch {
        return tempDir()
    }
}

function isLink(path: string): boolean {
    try {
        return lstatSync(path).isSymbolicLink()
    } catch {
        return false
    }
}

function startChild(script: string, root: string, runId: number): { child: ChildProcessWithoutNullStreams; watched: WatchedProcess } {
    const child = spawn(process.execPath, [script, root, String(runId)], { stdio: ["pipe", "pipe", "pipe"] })
    return { child, watched: watchProcess(child) }
}

describe("SIGKILL during deploys", () => {
    it("always leaves the link on a complete generation; the next deploy goes on from there", async () => {
        const seed = Number(process.env.SECRETS_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
        const random = prng(seed)
        const work = ramDir()
        const root = join(work, "root")
        const script = join(work, "deployer.mjs")
        writeFileSync(script, CHILD)
        // The lines a child prints, in order: per generation building, FILES wrote, built, switched, pruned.
        const steps = Array.from({ length: GENERATIONS_PER_CHILD }, () => ["building", ...Array<string>(FILES).fill("wrote"), "built", "switched", "pruned"]).flat()
        /** Line number (1-based) after which to kill: the switch and the links get as many kills as the builds. */
        const pickLine = (): number => {
            const r = random()
            const kind = r < 0.35 ? "built" : r < 0.55 ? "switched" : r < 0.65 ? "pruned" : "wrote"
            const at = steps.flatMap((step, i) => (step === kind ? [i + 1] : []))
            // Mostly in the first round: a later one is reached less often before the next kill.
            return at[Math.floor(random() ** 2 * at.length)] ?? 1
        }
        let highest = 0
        for (let run = 1; run <= KILLS; run++) {
            const context = `seed ${seed}, run ${run}`
            const { child, watched } = startChild(script, root, run)
            const after = pickLine()
            // After the chosen line, a random number of event-loop turns (none to a few
            // milliseconds' worth), so that kills land inside a step too, not only
            // between two. Any moment is a valid one: no assertion depends on when.
            const turns = Math.floor(random() * 3000)
            let seen = 0
            let armed = false
            child.stdout.on("data", (d: Buffer) => {
                seen += d.toString().split("\n").length - 1
                if (seen < after || armed) return
                armed = true
                let left = turns
                const tick = (): void => {
                    if (child.exitCode !== null || child.signalCode !== null) return
                    if (left-- > 0) setImmediate(tick)
                    else child.kill("SIGKILL")
                }
                tick()
            })
            const end = await watched.ended
            // A child that finished before its line came (a late pick) is a run without a kill: fine.
            expect(end.signal ?? `exit ${end.code}`, `${context}: ${watched.err()}`).toMatch(/^(SIGKILL|exit 0)$/)
            const active = checkActive(root, `${context} (killed ${turns} turns after line ${after}: ${watched.out().trim().split("\n").at(-1) ?? ""})`)
            // Once there, the link is never missing (no unlink-then-create window).
            if (highest > 0) expect(active, `${context}: the link is gone`).toBeDefined()
            if (active !== undefined) {
                // Numbering goes on after a crash: never back to an older generation.
                expect(active, context).toBeGreaterThanOrEqual(highest)
                highest = active
            }
        }

        // A deploy after all that crashing finishes, reusing or removing what the dead ones left.
        const last = startChild(script, root, 0).watched
        const end = await last.ended
        expect(end.code, `seed ${seed}: ${last.err()}`).toBe(0)
        // No temp link left. (The store lock's own candidate file may be: a process killed
        // right after creating it leaves an empty one, which files/lock-files.ts leaves
        // alone on purpose; it holds no secret.)
        const inRun = readdirSync(join(root, "run")).filter((n) => !/^\.secrets\.d\.lock\.[0-9a-f]{12}\.tmp$/.test(n))
        expect(inRun.sort(), `seed ${seed}: no temp link or lock left`).toEqual(["secrets", "secrets.d"])
        const active = checkActive(root, `seed ${seed}, final`)
        expect(active).toBeGreaterThan(highest)
        const left = readdirSync(join(root, "run/secrets.d")).map(Number).sort((a, b) => a - b)
        // keep 3: only the newest three, all complete.
        expect(left.at(-1)).toBe(active)
        expect(left.length).toBeLessThanOrEqual(3)
        for (const n of left) expect(existsSync(join(root, "run/secrets.d", String(n), ".manifest.json")), `seed ${seed}: generation ${n}`).toBe(true)
        // The path link follows the last generation's choice, and the other two were removed.
        const links = readdirSync(join(root, "etc/app"))
        expect(links).toEqual([`link-${(0 + GENERATIONS_PER_CHILD - 1) % 3}`])
        expect(readFileSync(join(root, "etc/app", links[0] ?? ""), "utf8")).toMatch(/^run 0 round 2 file 1 /)
    }, 120_000)
})
