/** `secrets deploy` flag values at <TAB>: paths for --root, --manifest and --identity; nothing for --host. */
import { Readable, Writable } from "node:stream"
import { describe, expect, it } from "vitest"
import { main } from "../../src/main.js"

async function directive(words: string[]): Promise<string> {
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
    return out.split("\n").filter((l) => l !== "").at(-1) ?? ""
}

describe("deploy completion", () => {
    it.each([["--root"], ["--manifest"], ["--identity"]])("offers paths after %s", async (flag) => {
        expect(await directive(["deploy", flag, ""])).toBe(":files")
    })

    it("offers no files for --host", async () => {
        expect(await directive(["deploy", "--host", ""])).toBe(":")
    })
})
