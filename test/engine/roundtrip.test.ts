/**
 * Files this engine writes are real sops files: their data-key blocks open with
 * Debian's `age`, an independent reading of the MAC/AAD rules agrees with them, and
 * they decrypt back to the same tree in every store.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { encryptNew } from "../../src/engine/seal.js"
import { openEncrypted } from "../../src/engine/open.js"
import { parseIdentities } from "../../src/keys/identity-file.js"
import { loadStore } from "../../src/stores/index.js"
import type { Format } from "../../src/stores/store.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"
import { independentlyOpen } from "./independent-check.js"

const PLAIN_YAML = `database:
    host: db.internal
    port: 5432
    password: correct-horse
    replicas:
        - one
        - two
enabled: true
ratio: 0.25
note_unencrypted: visible
`

describe("a file encrypted to two recipients", () => {
    it("has one armored age block per recipient, each opened by Debian age to the same data key", async () => {
        const dir = tempDir()
        const alice = ageKeygen(dir, "alice")
        const bob = ageKeygen(dir, "bob")
        const store = await loadStore("yaml")
        const out = await encryptNew(store.parsePlain(Buffer.from(PLAIN_YAML)), store, { groups: [[alice.recipient, bob.recipient]] }, new Date())
        const text = Buffer.from(out).toString()
        const sops = (parse(text) as { sops: { age: { recipient: string; enc: string }[] } }).sops
        expect(sops.age.map((a) => a.recipient)).toEqual([alice.recipient, bob.recipient])

        const keys = sops.age.map((a, i) => {
            const f = join(dir, `block${i}.age`)
            writeFileSync(f, a.enc)
            return run("age", ["-d", "-i", i === 0 ? alice.file : bob.file, f])
        })
        expect(keys[0]).toHaveLength(32)
        expect(keys[1]).toEqual(keys[0])

        // Bob's key must not open Alice's block.
        writeFileSync(join(dir, "a.age"), sops.age[0]!.enc)
        expect(() => run("age", ["-d", "-i", bob.file, join(dir, "a.age")])).toThrow()

        const independent = await independentlyOpen(text, keys[0]!)
        expect(independent.macMatches).toBe(true)
        expect(independent.values).toEqual({
            "database.host": "str:db.internal",
            "database.port": "int:5432",
            "database.password": "str:correct-horse",
            "database.replicas": "str:two", // both list items share the path; the last one wins in this view
            enabled: "bool:True",
            ratio: "float:0.25",
            note_unencrypted: "visible",
        })
    })

    it("decrypts with either identity and not with a stranger's", async () => {
        const dir = tempDir()
        const alice = ageKeygen(dir, "alice")
        const stranger = ageKeygen(dir, "stranger")
        const store = await loadStore("yaml")
        const tree = store.parsePlain(Buffer.from(PLAIN_YAML))
        const out = await encryptNew(tree, store, { groups: [[alice.recipient]] }, new Date())
        const opened = await openEncrypted(out, store, parseIdentities(alice.text, alice.file))
        expect(opened.branches).toEqual(tree)
        await expect(openEncrypted(out, store, parseIdentities(stranger.text, stranger.file))).rejects.toMatchObject({ code: 128 })
    })
})

const SAMPLES: Record<Exclude<Format, "binary">, string> = {
    yaml: PLAIN_YAML,
    json: `{\n\t"a": "b",\n\t"n": 9007199254740993,\n\t"list": [\n\t\t1.5,\n\t\ttrue,\n\t\tnull\n\t]\n}\n`,
    dotenv: "# comment\nA=1\nB=two words\nC=line\\nbreak\n",
    ini: "[server]\nhost = example.org\nport = 8080\n\n[auth]\ntoken = abc\n",
}

describe("every store round-trips through encryption", () => {
    for (const [format, sample] of Object.entries(SAMPLES) as [Exclude<Format, "binary">, string][]) {
        it(format, async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            const store = await loadStore(format)
            const tree = store.parsePlain(Buffer.from(sample))
            const out = await encryptNew(tree, store, { groups: [[key.recipient]] }, new Date())
            const opened = await openEncrypted(out, store, parseIdentities(key.text, key.file))
            expect(opened.branches).toEqual(tree)
            expect(Buffer.from(store.emitPlain(opened.branches)).toString()).toBe(Buffer.from(store.emitPlain(tree)).toString())
        })
    }

    it("binary", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir, "k")
        const store = await loadStore("binary")
        const input = new Uint8Array([0, 255, 1, 254, 10, 13, 0xc3, 0x28])
        const out = await encryptNew(store.parsePlain(input), store, { groups: [[key.recipient]] }, new Date())
        const opened = await openEncrypted(out, store, parseIdentities(key.text, key.file))
        expect(Buffer.from(store.emitPlain(opened.branches))).toEqual(Buffer.from(input))
    })
})
