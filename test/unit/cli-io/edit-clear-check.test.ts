/**
 * The edit loop's check hook with a terminal: a save the creation-rule check
 * refuses is reported and, after Enter, the editor reopens on what the user saved
 * (their edits are not lost); a save the check accepts is returned.
 */
import { readFile, writeFile } from "node:fs/promises"
import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import { editUntilValid } from "../../../src/cli/edit-loop.js"
import type { Io } from "../../../src/files/io.js"
import { checkClearValues } from "../../../src/cli/rule-checks.js"
import { ruleDrift } from "../../../src/fleet/rule-drift.js"
import { loadStore } from "../../../src/stores/index.js"

describe("edit with a drifted rule, at a terminal", () => {
    it("reopens the editor on the refused text, then accepts a value the creation rule also leaves in clear", async () => {
        const store = await loadStore("yaml")
        const stdin = Object.assign(new PassThrough(), { isTTY: true })
        let err = ""
        const io: Io = {
            cwd: "/",
            env: {},
            stdin,
            stdout: { write: () => true },
            stderr: { write: (c: string | Uint8Array) => (err += String(c)) },
            now: () => new Date("2030-01-01T00:00:00Z"),
        }
        const metadata = { keyGroups: [], shamirThreshold: 0, lastModified: "", mac: "", rule: { unencryptedRegex: ".*" }, macOnlyEncrypted: false, version: "3.13.2" }
        const branches = store.parsePlain(new TextEncoder().encode("db:\n    user: app\n"))
        const drift = ruleDrift(metadata, { rule: {}, macOnlyEncrypted: false }, false)
        const seen: string[] = []
        const result = await editUntilValid(
            io,
            { branches, metadata },
            {
                name: "secrets/x.yaml",
                store,
                showMasterKeys: false,
                check: (edited) => checkClearValues(io, "edit", "secrets/x.yaml", branches, edited.branches, drift, false),
                runEditor: async (path) => {
                    const text = await readFile(path, "utf8")
                    seen.push(text)
                    if (seen.length === 1) {
                        await writeFile(path, `${text}    password: pw\n`)
                        // The user presses Enter after the error (buffered until the loop reads it).
                        stdin.write("\n")
                    } else {
                        await writeFile(path, text.replace("password:", "password_unencrypted:"))
                    }
                },
            },
        )
        expect(seen).toEqual(["db:\n    user: app\n", "db:\n    user: app\n    password: pw\n"])
        expect(err).toContain(`secrets: error: "secrets/x.yaml": ["db"]["password"] would be written in clear`)
        expect(err).toContain("press Enter to reopen the editor")
        expect(Buffer.from(store.emitPlain(result.branches)).toString("utf8")).toBe("db:\n    user: app\n    password_unencrypted: pw\n")
    })
})
