/** `secrets import` and `export` at <TAB>: the plaintext source and --into are any path, --at offers no files, --format its choices. */
import { Readable, Writable } from "node:stream"
import { describe, expect, it } from "vitest"
import { main } from "../../../src/main.js"

async function complete(words: string[]): Promise<string[]> {
    let out = ""
    const io = {
        cwd: "/",
        env: {},
        stdin: Readable.from([]),
        stdout: { write: (s: string | Uint8Array) => ((out += String(s)), true) },
        stderr: new Writable({ write: (_c, _e, cb) => cb() }),
        now: () => new Date(0),
    }
    expect(await main(["__complete", "bash", "--", ...words], io)).toBe(0)
    return out.split("\n").filter((l) => l !== "")
}

describe("import and export completion", () => {
    it("offers paths for import's source and --into", async () => {
        expect((await complete(["import", ""])).at(-1)).toBe(":files")
        expect((await complete(["import", ".env", "--into", ""])).at(-1)).toBe(":files")
    })

    it("offers no files for --at", async () => {
        expect(await complete(["import", ".env", "--at", ""])).toEqual([":"])
    })

    it("offers export's formats", async () => {
        expect(await complete(["export", "a.yaml", "--format", ""])).toEqual(["env", "json", "yaml", "docker", "k8s-secret", ":"])
    })
})
