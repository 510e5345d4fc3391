/**
 * keyDates (one git log pass and one cat-file --batch for every file,
 * src/fleet/key-dates.ts) against keyDate (git log and git show file by file,
 * key-age.ts, the reference): the same date, source and commit for every file, on
 * a repository with renames, merges both ways round, re-keys, plaintext and
 * directory versions, names a pathspec or a quoted log would get wrong, files never
 * committed, and shallow clones of it; then on random histories (fast-check).
 * And the claim it exists for: two git processes however many files.
 */
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { keyDate, workTreeOf, type KeyDate } from "../../../src/fleet/key-age.js"
import { keyDates, type KeyDateFile } from "../../../src/fleet/key-dates.js"
import { tempDir } from "../../helpers/tmp.js"
import { HistoryRepo, NAMES, recordingGit, sopsFilesUnder, WRITE_KINDS, type WriteKind } from "./history-repo.js"

/** Both answers for every sops file under `dir`; fails on the first file where they differ. */
async function compare(dir: string, env: Record<string, string>): Promise<Map<string, KeyDate>> {
    const files = await sopsFilesUnder(dir)
    const top = await workTreeOf(dir, env)
    expect(top).toBeDefined()
    const batched = await keyDates(files, env, top)
    // Without digests every version is parsed: the shortcut must not change an answer.
    const parsed = await keyDates(
        files.map((f): KeyDateFile => ({ abs: f.abs, metadata: f.metadata })),
        env,
        top,
    )
    const out = new Map<string, KeyDate>()
    for (const f of files) {
        const one = await keyDate(f.abs, f.metadata, env, top)
        const rel = f.abs.slice(dir.length + 1)
        expect(batched.get(f.abs), rel).toEqual(one)
        expect(parsed.get(f.abs), rel).toEqual(one)
        out.set(rel, one)
    }
    expect(batched.size).toBe(files.length)
    return out
}

const day = (n: number) => new Date(Date.UTC(2030, 0, 1) + n * 86_400_000).toISOString().replace(".000Z", "Z")

async function fixedHistory(): Promise<HistoryRepo> {
    const r = new HistoryRepo(join(tempDir(), "repo"))
    const [a, b, j, c, d] = NAMES
    for (const f of [a, b, j, c]) await r.write(f, "new")
    await r.write("secrets/e.yaml", "new")
    await r.write("secrets/g.yaml", "new")
    r.commit(day(10), "first")
    await r.write(a, "edit")
    await r.write(b, "add")
    r.commit(day(20), "edit a, re-wrap b")
    // A plain rename (git would log it as one, R100, if asked to chase renames), then
    // a copy back under the old name: the copy's key is as old as the copy.
    r.rename("secrets/g.yaml", "secrets/h.yaml")
    r.commit(day(25), "rename g to h")
    r.copy("secrets/h.yaml", "secrets/g.yaml")
    r.commit(day(27), "copy h back to g")
    // A rename: at the new path the history starts with the rename (no rename chase),
    // and a new file takes the old name.
    r.rename(a, d)
    await r.write(a, "new")
    r.commit(day(31), "rename")
    // A side branch rotates a file and is merged into main.
    r.git(["checkout", "-q", "-b", "side"])
    await r.write(j, "new")
    r.commit(day(35), "rotate on side")
    r.git(["checkout", "-q", "main"])
    await r.write(c, "edit")
    r.commit(day(36), "edit on main")
    r.git(["merge", "-q", "--no-ff", "-m", "merge side", "side"], day(40))
    // The other way round: main merged into a branch that main then fast-forwards
    // to, so main's own rotation of c is off the first-parent line.
    r.git(["checkout", "-q", "-b", "side2"])
    await r.write(b, "edit")
    r.commit(day(42), "edit b on side2")
    r.git(["checkout", "-q", "main"])
    await r.write(c, "new")
    r.commit(day(43), "rotate c on main")
    r.git(["checkout", "-q", "side2"])
    r.git(["merge", "-q", "--no-ff", "-m", "merge main into side2", "main"], day(44))
    r.git(["checkout", "-q", "main"])
    r.git(["merge", "-q", "--ff-only", "side2"])
    // A plaintext version breaks the chain; so does a directory at the path.
    await r.write(b, "plain")
    r.commit(day(50), "oops, plaintext")
    await r.write(b, "new")
    r.commit(day(51), "encrypted again")
    await r.write("secrets/e.yaml", "dir")
    r.commit(day(52), "e becomes a directory")
    await r.write("secrets/e.yaml", "new")
    r.commit(day(53), "e a file again")
    // Every block replaced under the same data key, then a drop (the key stays).
    await r.write(j, "replace")
    r.commit(day(60), "replace recipients")
    await r.write(j, "drop")
    r.commit(day(61), "drop one")
    return r
}

/** Not committed: a new file, an edit (same key), a rotation. */
async function uncommittedChanges(r: HistoryRepo): Promise<void> {
    await r.write("secrets/f.yaml", "new")
    await r.write(NAMES[4], "edit")
    await r.write(NAMES[3], "new")
}

describe("keyDates, one pass for the repository, against keyDate file by file", () => {
    it("renames, merges both ways, plaintext and directory versions, re-keys, uncommitted files", async () => {
        const r = await fixedHistory()
        const at = (got: Map<string, KeyDate>, p: string) => {
            const k = got.get(p)
            return k === undefined ? undefined : [k.source, k.date?.toISOString().slice(0, 10)]
        }
        // The reference's answers, spelled out, so that both being wrong the same way shows.
        const committed = await compare(r.dir, r.env)
        // The rotation of c on main is off the first-parent line; the merge of main
        // into side2 brought it onto it, so that merge made the key as history reads it.
        expect(at(committed, "secrets/c*.env")).toEqual(["git", "2030-02-14"])
        expect(at(committed, "secrets/a.yaml")).toEqual(["git", "2030-02-01"])
        // Renamed: no rename chase, the history at the new path starts with the rename.
        expect(at(committed, "secrets/sub/d.yaml")).toEqual(["git", "2030-02-01"])
        expect(at(committed, "secrets/b[1].yaml")).toEqual(["git", "2030-02-21"])
        expect(at(committed, "secrets/sp ace é.json")).toEqual(["git", "2030-03-02"])
        expect(at(committed, "secrets/e.yaml")).toEqual(["git", "2030-02-23"])
        expect(at(committed, "secrets/h.yaml")).toEqual(["git", "2030-01-26"])
        expect(at(committed, "secrets/g.yaml")).toEqual(["git", "2030-01-28"])

        await uncommittedChanges(r)
        const working = await compare(r.dir, r.env)
        expect(at(working, "secrets/c*.env")?.[0]).toBe("lastmodified")
        expect(at(working, "secrets/f.yaml")?.[0]).toBe("lastmodified")
        expect(at(working, "secrets/sub/d.yaml")).toEqual(["git", "2030-02-01"])
    }, 120_000)

    it("in shallow clones: the boundary commit reads as the first", async () => {
        const r = await fixedHistory()
        await uncommittedChanges(r)
        r.commit(day(70), "commit the rest")
        for (const depth of ["1", "3"]) {
            const clone = join(tempDir(), `clone${depth}`)
            r.git(["clone", "-q", "--depth", depth, `file://${r.dir}`, clone])
            const got = await compare(clone, r.env)
            expect([...got.values()].every((k) => k.source === "git")).toBe(true)
        }
    }, 120_000)

    it("asks git twice (one log, one cat-file --batch), however many files", async () => {
        const r = await fixedHistory()
        for (let i = 0; i < 30; i++) await r.write(`secrets/many/m${i}.yaml`, "new")
        r.commit(day(80), "many")
        for (let i = 0; i < 30; i += 2) await r.write(`secrets/many/m${i}.yaml`, "edit")
        r.commit(day(81), "edit half")
        const git = recordingGit(r, tempDir())
        const env = { ...r.env, PATH: `${git.bin}:${r.env.PATH}` }
        const files = await sopsFilesUnder(r.dir)
        expect(files.length).toBeGreaterThan(35)
        const top = await workTreeOf(r.dir, env)
        git.reset()
        const dates = await keyDates(files, env, top)
        expect([...dates.values()].filter((k) => k.source === "git").length).toBeGreaterThan(30)
        const calls = git.calls()
        expect(calls).toHaveLength(2)
        expect(calls[0]).toMatch(/^-c log\.follow=false log --first-parent /)
        expect(calls[1]).toBe("cat-file --batch")
        // The reference, for scale: a log per file and a show per version read.
        git.reset()
        for (const f of files) await keyDate(f.abs, f.metadata, env, top)
        expect(git.calls().length).toBeGreaterThan(2 * files.length)
    }, 120_000)
})

type Op =
    | { t: "write"; f: number; kind: WriteKind }
    | { t: "rename"; from: number; to: number }
    | { t: "commit"; day: number }
    | { t: "branch"; side: { f: number; kind: WriteKind }[]; main: { f: number; kind: WriteKind }[]; reversed: boolean; day: number }

const write = fc.record({ f: fc.nat({ max: NAMES.length - 1 }), kind: fc.constantFrom(...WRITE_KINDS) })
const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: write.map((w) => ({ t: "write" as const, ...w })) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("rename" as const), from: fc.nat({ max: NAMES.length - 1 }), to: fc.nat({ max: NAMES.length - 1 }) }) },
    // Dates out of order too: the walk follows parents, not dates.
    { weight: 3, arbitrary: fc.record({ t: fc.constant("commit" as const), day: fc.nat({ max: 90 }) }) },
    {
        weight: 1,
        arbitrary: fc.record({
            t: fc.constant("branch" as const),
            side: fc.array(write, { maxLength: 3 }),
            main: fc.array(write, { maxLength: 3 }),
            reversed: fc.boolean(),
            day: fc.nat({ max: 90 }),
        }),
    },
)

async function play(r: HistoryRepo, ops: readonly Op[]): Promise<void> {
    const name = (i: number) => NAMES[i] ?? "secrets/a.yaml"
    for (const o of ops) {
        if (o.t === "write") await r.write(name(o.f), o.kind)
        else if (o.t === "commit") r.commit(day(o.day))
        else if (o.t === "rename") {
            if (o.from !== o.to && r.exists(name(o.from)) && !r.exists(name(o.to))) {
                // git mv needs a tracked source and no directory at the target.
                await r.write(name(o.to), "delete")
                r.commit(day(0), "make room")
                r.git(["add", "-A"])
                r.rename(name(o.from), name(o.to))
            }
        } else {
            // The side branch writes even-numbered files, main odd ones: no conflicts.
            r.commit(day(o.day), "before branch")
            r.git(["checkout", "-q", "-b", "side"])
            for (const w of o.side) await r.write(name(w.f - (w.f % 2)), w.kind)
            r.commit(day(o.day + 1), "side")
            r.git(["checkout", "-q", "main"])
            for (const w of o.main) await r.write(name((w.f | 1) < NAMES.length ? w.f | 1 : 1), w.kind)
            r.commit(day(o.day + 2), "main")
            if (o.reversed) {
                r.git(["checkout", "-q", "side"])
                r.git(["merge", "-q", "--no-ff", "-m", "main into side", "main"], day(o.day + 3))
                r.git(["checkout", "-q", "main"])
                r.git(["merge", "-q", "--ff-only", "side"])
            } else {
                r.git(["merge", "-q", "--no-ff", "-m", "side into main", "side"], day(o.day + 3))
            }
            r.git(["branch", "-q", "-D", "side"])
        }
    }
}

describe("keyDates against keyDate on random histories", () => {
    it("agree on every file", async () => {
        await fc.assert(
            fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
                const r = new HistoryRepo(join(tempDir(), "repo"))
                await play(r, ops)
                await compare(r.dir, r.env)
            }),
            { numRuns: 25 },
        )
    }, 600_000)
})
