import { spawn } from "node:child_process"
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest"

import { withPrivateDir, withPrivateTempFile } from "../../../src/files/private-temp.js"
import { tempDir } from "../../helpers/tmp.js"
import { compileSrc } from "./compiled.js"

const enc = (s: string) => new TextEncoder().encode(s)
const mode = (p: string) => statSync(p).mode & 0o7777

describe("withPrivateTempFile", () => {
    it("writes a 0600 file in a 0700 dir on /dev/shm, named like the target, and removes it after", async () => {
        let seen = ""
        const result = await withPrivateTempFile("/some/where/secrets.enc.yaml", enc("password: hunter2\n"), async (path) => {
            seen = path
            expect(readFileSync(path, "utf8")).toBe("password: hunter2\n")
            expect(mode(path)).toBe(0o600)
            expect(mode(dirname(path))).toBe(0o700)
            return 42
        })
        expect(result).toBe(42)
        const shm = existsSync("/dev/shm") ? "/dev/shm" : null
        if (shm !== null) expect(seen.startsWith("/dev/shm/secrets-")).toBe(true)
        expect(seen.endsWith("/secrets.enc.yaml")).toBe(true)
        expect(existsSync(seen)).toBe(false)
        expect(existsSync(dirname(seen))).toBe(false)
    })

    it("removes the dir, including files the editor added, when fn throws, and rethrows the same error", async () => {
        let seen = ""
        const err = new Error("editor crashed")
        await expect(
            withPrivateTempFile("a.json", enc("{}"), async (path) => {
                seen = path
                writeFileSync(join(dirname(path), ".a.json.swp"), "swap")
                throw err
            }),
        ).rejects.toBe(err)
        expect(existsSync(dirname(seen))).toBe(false)
    })

    it("keeps a hostile name inside the private dir", async () => {
        const parent = tempDir()
        for (const name of ["../../etc/evil", "..", "", "a\\..\\b.env"]) {
            await withPrivateTempFile(name, enc("x"), async (path) => {
                expect(dirname(dirname(path))).toBe(parent)
                expect(path.slice(dirname(path).length + 1)).toBe(name === "a\\..\\b.env" ? "b.env" : name.startsWith("../") ? "evil" : "tmp-file")
            }, { parent })
        }
    })

    it("installs its signal and exit handlers only for the duration", async () => {
        const before = ["SIGINT", "SIGTERM", "SIGHUP", "exit"].map((s) => process.listenerCount(s))
        await withPrivateTempFile("x", enc("x"), async () => {
            expect(process.listenerCount("SIGINT")).toBe(before[0]! + 1)
            expect(process.listenerCount("exit")).toBe(before[3]! + 1)
        })
        expect(["SIGINT", "SIGTERM", "SIGHUP", "exit"].map((s) => process.listenerCount(s))).toEqual(before)
    })
})

describe("withPrivateTempFile in a process that gets interrupted", () => {
    let compiled: ReturnType<typeof compileSrc>
    beforeAll(() => {
        compiled = compileSrc(["errors.ts", "files/private-temp.ts"])
    })
    afterAll(() => compiled.cleanup())

    /** Start a child holding a temp file; resolve with the child and the file's path once it is there. */
    function holdTempFile(dir: string, body: string): Promise<{ child: ReturnType<typeof spawn>; path: string }> {
        const script = join(dir, "child.mjs")
        const mod = pathToFileURL(join(compiled.outDir, "files", "private-temp.js")).href
        writeFileSync(
            script,
            `import { withPrivateTempFile } from ${JSON.stringify(mod)}
await withPrivateTempFile("secrets.yaml", new TextEncoder().encode("k: plaintext\\n"), async (path) => {
    process.stdout.write(path + "\\n")
    ${body}
})
`,
        )
        // ulimit -c 0, then exec (same pid): a SIGQUIT that dumped core would leave no core file.
        const child = spawn("/bin/sh", ["-c", `ulimit -c 0; exec "$0" "$1"`, process.execPath, script], { stdio: ["ignore", "pipe", "inherit"] })
        return new Promise((resolve, reject) => {
            let out = ""
            child.stdout.on("data", (d: Buffer) => {
                out += d.toString()
                if (out.endsWith("\n")) resolve({ child, path: out.trim() })
            })
            child.on("error", reject)
        })
    }

    const exited = (child: ReturnType<typeof spawn>) =>
        new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })))

    it.each(["SIGTERM", "SIGINT", "SIGHUP"] as const)("removes the plaintext on %s and dies of that signal", async (signal) => {
        const { child, path } = await holdTempFile(tempDir(), "await new Promise(() => setInterval(() => {}, 1000))")
        expect(readFileSync(path, "utf8")).toBe("k: plaintext\n")
        const done = exited(child)
        child.kill(signal)
        expect(await done).toEqual({ code: null, signal })
        expect(existsSync(path)).toBe(false)
        expect(existsSync(dirname(path))).toBe(false)
    })

    // Issue 10 §7: SIGQUIT's default action dumps a core full of plaintext, so it is
    // handled: the directory goes as on SIGTERM, and the process exits 131 instead.
    it("removes the plaintext and exits 131 rather than dying of SIGQUIT (no core)", async () => {
        const { child, path } = await holdTempFile(tempDir(), "await new Promise(() => setInterval(() => {}, 1000))")
        // A failing run (the process dumped core instead) leaves it behind: not ours to keep.
        onTestFinished(() => rmSync(dirname(path), { recursive: true, force: true }))
        expect(readFileSync(path, "utf8")).toBe("k: plaintext\n")
        const done = exited(child)
        child.kill("SIGQUIT")
        expect(await done).toEqual({ code: 131, signal: null })
        expect(existsSync(dirname(path))).toBe(false)
    })

    it("leaves no SIGQUIT listener behind once fn has settled", async () => {
        const before = process.listenerCount("SIGQUIT")
        await withPrivateDir(async () => {
            expect(process.listenerCount("SIGQUIT")).toBe(before + 1)
        })
        expect(process.listenerCount("SIGQUIT")).toBe(before)
    })

    it("removes the plaintext when fn calls process.exit", async () => {
        const { child, path } = await holdTempFile(tempDir(), "await new Promise((r) => setTimeout(r, 100)); process.exit(7)")
        expect(await exited(child)).toEqual({ code: 7, signal: null })
        expect(existsSync(dirname(path))).toBe(false)
    })
})
