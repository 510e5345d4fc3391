import { spawn } from "node:child_process"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

import { withPrivateTempFile } from "../../../src/cli/private-temp.js"
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
        compiled = compileSrc(["errors.ts", "cli/private-temp.ts"])
    })
    afterAll(() => compiled.cleanup())

    /** Start a child holding a temp file; resolve with the child and the file's path once it is there. */
    function holdTempFile(dir: string, body: string): Promise<{ child: ReturnType<typeof spawn>; path: string }> {
        const script = join(dir, "child.mjs")
        const mod = pathToFileURL(join(compiled.outDir, "cli", "private-temp.js")).href
        writeFileSync(
            script,
            `import { withPrivateTempFile } from ${JSON.stringify(mod)}
await withPrivateTempFile("secrets.yaml", new TextEncoder().encode("k: plaintext\\n"), async (path) => {
    process.stdout.write(path + "\\n")
    ${body}
})
`,
        )
        const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] })
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

    it("removes the plaintext when fn calls process.exit", async () => {
        const { child, path } = await holdTempFile(tempDir(), "await new Promise((r) => setTimeout(r, 100)); process.exit(7)")
        expect(await exited(child)).toEqual({ code: 7, signal: null })
        expect(existsSync(dirname(path))).toBe(false)
    })
})
