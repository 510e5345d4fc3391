import { readFileSync, readdirSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { lookup, type Mapping, type Node } from "../../../src/core/tree.js"
import { dec, enc } from "./helpers.js"

const ROOT = join(import.meta.dirname, "../../fixtures/interop")

function yamlFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const p = join(dir, name)
        if (statSync(p).isDirectory()) return yamlFiles(p)
        return name.endsWith(".yaml") ? [relative(ROOT, p)] : []
    })
}

/** Plaintext inputs (not sops output) are not round-trip vectors. */
const PLAINTEXT = (f: string): boolean => f.includes("_plaintext") || f.includes("raw") ||
    ["getsops-sops-pgp/comments.yaml", "getsops-sops-pgp/comments_list.yaml", "getsops-sops-pgp/plainfile.yaml"].includes(f)

/**
 * Vectors that real sops wrote with an older YAML library. sops < 3.7 used the
 * yaml.v2-based mozilla-services/yaml fork: block sequences not indented under their
 * key (`-   created_at:`) and single-quoted timestamps. sops 3.13 would rewrite them.
 */
const NOT_BYTE_IDENTICAL: Record<string, string> = {
    "getsops-sops-pgp/comments.enc.yaml": "sops 3.6.1, yaml.v2 emitter (`-   created_at`, single quotes)",
    "getsops-sops-pgp/comments_unencrypted_comments.yaml": "sops 3.3.1, yaml.v2 emitter",
    "getsops-sops-pgp/multiple_keys.yaml": "sops 3.3.1, yaml.v2 emitter",
    "getsops-sops-pgp/no_mac.yaml": "sops 3.3.1, yaml.v2 emitter",
    "gibbz00-rops/age_empty_value.yaml": "normalised by rops (serde_yaml): `''`, unindented `- `, unquoted lastmodified",
}

const INDENT_2 = (f: string): boolean => f.startsWith("humphd-sops-age/") || f.endsWith("age_empty_value.yaml")

const files = yamlFiles(ROOT).filter((f) => !PLAINTEXT(f)).sort()

describe("real sops YAML vectors", () => {
    it("finds the vectors", () => {
        expect(files.length).toBeGreaterThanOrEqual(28)
    })

    for (const f of files) {
        const reason = NOT_BYTE_IDENTICAL[f]
        const store = createYamlStore({ indent: INDENT_2(f) ? 2 : 4 })
        const input = readFileSync(join(ROOT, f))
        if (reason === undefined) {
            it(`${f} re-emits byte for byte`, () => {
                expect(dec(store.emitEncrypted(store.parseEncrypted(input)))).toBe(dec(input))
            })
        } else {
            it(`${f} (${reason}) is not byte-identical but is a fixed point after one rewrite`, () => {
                const once = store.emitEncrypted(store.parseEncrypted(input))
                expect(dec(once)).not.toBe(dec(input))
                const twice = store.emitEncrypted(store.parseEncrypted(once))
                expect(dec(twice)).toBe(dec(once))
                expect(store.parseEncrypted(once)).toEqual(store.parseEncrypted(input))
            })
        }
    }
})

const get = (m: Mapping, ...path: string[]): Node | undefined => {
    let cur: Node | undefined = m
    for (const k of path) cur = cur?.kind === "map" ? lookup(cur, k) : undefined
    return cur
}

describe("vector contents", () => {
    const store = createYamlStore()
    const read = (f: string) => store.parseEncrypted(readFileSync(join(ROOT, f)))

    it("splits the sops block off and keeps comments (example.yaml)", () => {
        const d = read("getsops-sops/example.yaml")
        expect(d.branches).toHaveLength(1)
        const b = d.branches[0] as Mapping
        expect(lookup(b, "sops")).toBeUndefined()
        expect(get(d.metadata, "lastmodified")).toEqual({ kind: "str", value: "2022-03-15T22:11:15Z" })
        expect(get(d.metadata, "version")).toEqual({ kind: "str", value: "3.7.1" })
        expect(get(d.metadata, "kms")).toEqual({ kind: "list", items: [] })
        const db = get(b, "app2", "db")
        expect(db?.kind === "map" && db.items.map((i) => i.kind)).toEqual(["entry", "entry", "comment"])
        expect(get(b, "somelist_unencrypted")).toEqual({
            kind: "list",
            items: [
                { kind: "str", value: "all elements of this list" },
                { kind: "str", value: "remain in clear text" },
                { kind: "str", value: "because of the _encrypted suffix in the key" },
            ],
        })
    })

    it("types metadata values (rops unquoted lastmodified is a timestamp, shamir_threshold an int)", () => {
        expect(get(read("gibbz00-rops/age_empty_value.yaml").metadata, "lastmodified")).toEqual({ kind: "time", value: "2026-05-17T17:54:30Z" })
        expect(get(read("kartverket-risc-backend/sopsFileWithShamir2.yaml").metadata, "shamir_threshold")).toEqual({ kind: "int", value: 2n })
        expect(get(read("gibbz00-rops/age_mac_only_encrypted.yaml").metadata, "mac_only_encrypted")).toEqual({ kind: "bool", value: true })
    })

    it("reads age enc blocks as literal strings with their trailing newline", () => {
        const age = get(read("sops-nix/HEAD/secrets.yaml").metadata, "age")
        const first = age?.kind === "list" ? age.items[0] : undefined
        const e = first?.kind === "map" ? lookup(first, "enc") : undefined
        expect(e?.kind).toBe("str")
        const text = e?.kind === "str" ? e.value : ""
        expect(text.startsWith("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl")).toBe(true)
        expect(text.endsWith("-----END AGE ENCRYPTED FILE-----\n")).toBe(true)
    })
})

describe("plaintext files in the interop folder", () => {
    const store = createYamlStore()
    const plain = (f: string) => store.parsePlain(readFileSync(join(ROOT, f)))

    it("rops age_example_plaintext.yaml", () => {
        const [b] = plain("gibbz00-rops/age_example_plaintext.yaml")
        expect(get(b as Mapping, "example_number")).toEqual({ kind: "float", value: 1234.56789 })
        expect(get(b as Mapping, "example_booleans")).toEqual({ kind: "list", items: [{ kind: "bool", value: true }, { kind: "bool", value: false }] })
        expect(get(b as Mapping, "hello")).toEqual({ kind: "str", value: "Welcome to SOPS! Edit this file as you please!" })
    })

    it("rops age_mac_only_encrypted_plaintext.yaml: ints in a nested list", () => {
        const [b] = plain("gibbz00-rops/age_mac_only_encrypted_plaintext.yaml")
        expect(get(b as Mapping, "b_unencrypted", "b")).toEqual({ kind: "list", items: [{ kind: "int", value: 123n }, { kind: "int", value: 456n }] })
    })

    it("rops age_empty_value_plaintext.yaml: '' is a string, null is null", () => {
        const [b] = plain("gibbz00-rops/age_empty_value_plaintext.yaml")
        expect(b).toEqual({
            kind: "map",
            items: [
                { kind: "entry", key: "string_value", value: { kind: "str", value: "" } },
                { kind: "entry", key: "null_value", value: { kind: "null" } },
                { kind: "entry", key: "array_value", value: { kind: "list", items: [{ kind: "str", value: "" }, { kind: "null" }] } },
            ],
        })
    })

    it("sops functional test comments.yaml and comments_list.yaml", () => {
        expect(plain("getsops-sops-pgp/comments.yaml")).toEqual([{
            kind: "map",
            items: [
                { kind: "comment", text: " first comment in file" },
                { kind: "entry", key: "lorem", value: { kind: "str", value: "ipsum" } },
                { kind: "comment", text: " this-is-a-comment" },
                { kind: "entry", key: "dolor", value: { kind: "str", value: "sit" } },
            ],
        }])
        expect(plain("getsops-sops-pgp/comments_list.yaml")).toEqual([{
            kind: "map",
            items: [{
                kind: "entry", key: "lorem", value: {
                    kind: "list",
                    items: [{ kind: "str", value: "foo" }, { kind: "comment", text: "this-is-a-comment" }, { kind: "str", value: "bar" }],
                },
            }],
        }])
    })

    it("isindir raw secrets: quoted keys and nested lists of maps", () => {
        const [b] = plain("isindir-sops-secrets-operator/HEAD/00-raw-test-secrets.yaml")
        const t = get(b as Mapping, "spec", "secretTemplates")
        expect(t?.kind).toBe("list")
        const third = t?.kind === "list" ? t.items[2] : undefined
        expect(third?.kind === "map" && get(third, "labels", "jenkins.io/credentials-type")).toEqual({ kind: "str", value: "usernamePassword" })
    })

    it("parses a sops file as plaintext too, metadata included", () => {
        const docs = store.parsePlain(enc("a: 1\nsops:\n    version: 3.13.2\n"))
        expect(get(docs[0] as Mapping, "sops", "version")).toEqual({ kind: "str", value: "3.13.2" })
    })
})
