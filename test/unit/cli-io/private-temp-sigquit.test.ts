/**
 * SIGQUIT while a private temp dir holds plaintext (issue 10 §7): the directory is
 * removed as on SIGTERM, and the process exits with 131 instead of dying of the
 * signal, whose default action dumps a core full of plaintext. The child runs
 * under `ulimit -c 0` so that a failing run leaves no core file either.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest"

import { withPrivateDir } from "../../../src/cli/private-temp.js"
import { tempDir } from "../../helpers/tmp.js"
import { compileSrc } from "./compiled.js"

describe("withPrivateTempFile and SIGQUIT", () => {
    let compiled: ReturnType<typeof compileSrc>
    beforeAll(() => {
        compiled = compileSrc(["errors.ts", "cli/private-temp.ts"])
    })
    afterAll(() => compiled.cleanup())

    function holdTempFile(dir: string): Promise<{ child: ReturnType<typeof spawn>; path: string }> {
        const script = join(dir, "child.mjs")
        const mod = pathToFileURL(join(compiled.outDir, "cli", "private-temp.js")).href
        writeFileSync(
            script,
            `import { withPrivateTempFile } from ${JSON.stringify(mod)}
await withPrivateTempFile("secrets.yaml", new TextEncoder().encode("k: plaintext\\n"), async (path) => {
    process.stdout.write(path + "\\n")
    await new Promise(() => setInterval(() => {}, 1000))
})
`,
        )
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

    it("removes the plaintext and exits 131 rather than dying of SIGQUIT (no core)", async () => {
        const { child, path } = await holdTempFile(tempDir())
        // A failing run (the process dumped core instead) leaves it behind: not ours to keep.
        onTestFinished(() => rmSync(dirname(path), { recursive: true, force: true }))
        expect(readFileSync(path, "utf8")).toBe("k: plaintext\n")
        const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })))
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
})
