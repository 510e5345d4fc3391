/**
 * go-yaml (so sops, and our emitter, which writes its bytes) writes a multi-line
 * string that starts with a space or a line break, in a list item, as a block
 * scalar neither go-yaml nor our reader can read back (docs/format.md). Encrypted
 * values are ENC strings, but one kept in clear would make an encrypted file nobody
 * can open: the YAML store refuses to write it, and `encrypt` leaves nothing behind.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import type { MapItem, Mapping } from "../../src/core/tree.js"
import { FormatError } from "../../src/errors.js"
import { createYamlStore } from "../../src/stores/yaml.js"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const metadata: Mapping = { kind: "map", items: [{ kind: "entry", key: "version", value: { kind: "str", value: "3.13.0" } }] }
const doc = (items: MapItem[]) => ({ branches: [{ kind: "map" as const, items }], metadata })
const str = (value: string) => ({ kind: "str" as const, value })

describe("YAML files that would not read back", () => {
    it("the store refuses a clear list item that starts with a line break or a space, and writes the same value readably elsewhere", () => {
        const store = createYamlStore()
        for (const value of ["\nlead", " x\n y"]) {
            const inList: MapItem[] = [{ kind: "entry", key: "x_unencrypted", value: { kind: "list", items: [str(value)] } }]
            expect(() => store.emitEncrypted(doc(inList))).toThrow(FormatError)
            expect(() => store.emitEncrypted(doc(inList))).toThrow(/would not read back/)
            // In a plain mapping go-yaml's indicator is right: written, and it reads back.
            const inMap: MapItem[] = [{ kind: "entry", key: "x_unencrypted", value: str(value) }]
            const text = new TextDecoder().decode(store.emitEncrypted(doc(inMap)))
            expect(text).toMatch(/\|[1-9]-?$/m)
            const back = store.parseEncrypted(new TextEncoder().encode(text))
            expect(back.branches[0]!.items[0]).toEqual(inMap[0])
        }
    })

    it("`secrets encrypt -i` of such a file fails with one line and leaves the plaintext file as it was", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir, "key")
        const plain = 'db_password: hunter2\nnotes_unencrypted:\n    - "\\nfirst line is empty"\n'
        const file = join(dir, "app.yaml")
        writeFileSync(file, plain)
        const r = await runCli(["encrypt", "-i", "--age", key.recipient, "app.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
        expect(r.code).not.toBe(0)
        expect(r.stderr).toMatch(/^secrets: error: .*would not read back/m)
        expect(r.stderr).not.toContain("hunter2")
        expect(readFileSync(file, "utf8")).toBe(plain)
        expect(existsSync(join(dir, "app.yaml.lock"))).toBe(false)
        // Without the clear value the same file encrypts and opens.
        writeFileSync(file, 'db_password: hunter2\nnotes_unencrypted:\n    - "first line"\n')
        expect((await runCli(["encrypt", "-i", "--age", key.recipient, "app.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })).code).toBe(0)
        const back = await runCli(["decrypt", "app.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
        expect(back.stdout).toContain("hunter2")
    })
})
