import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import type { Mapping, Node } from "../../../src/core/tree.js"
import { lookup } from "../../../src/core/tree.js"
import { createBinaryStore } from "../../../src/stores/binary.js"
import { createDotenvStore } from "../../../src/stores/dotenv.js"
import { createIniStore } from "../../../src/stores/ini.js"
import { createJsonStore } from "../../../src/stores/json.js"
import type { Store } from "../../../src/stores/store.js"

const INTEROP = `${import.meta.dirname}/../../fixtures/interop/`
const read = (p: string): Buffer => readFileSync(INTEROP + p)
const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8")

/** Every lowercase [sops] line sorted by key, the rest untouched: sops ≥ 3.8 sorts, older INI writers did not. */
function sortIniSopsSection(s: string): string {
    const at = s.indexOf("[sops]\n")
    const head = s.slice(0, at + "[sops]\n".length)
    const lines = s.slice(head.length).split("\n").filter((l) => l !== "")
    const key = (l: string): string => l.slice(0, l.indexOf(" "))
    lines.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    return head + lines.join("\n") + "\n"
}

interface Vector {
    path: string
    store: () => Store
    /** What a 3.13 writer gives back, when that is not the input itself, and why. */
    expected?: (input: string) => string
    why?: string
}

const VECTORS: Vector[] = [
    { path: "getsops-sops-pgp/format.enc.json", store: () => createJsonStore() },
    { path: "humphd-sops-age/HEAD/secret.enc.json", store: () => createJsonStore({ indent: 2 }) },
    { path: "humphd-sops-age/5db138f/secret.enc.json", store: () => createJsonStore({ indent: 2 }) },
    { path: "humphd-sops-age/da83fb6/secret.enc.json", store: () => createJsonStore({ indent: 2 }) },
    {
        path: "getsops-sops/example.json",
        store: () => createJsonStore(),
        expected: (s) => s + "\n",
        why: "sops 3.7.1 wrote no trailing newline; sops ≥ 3.10 does",
    },
    {
        path: "getsops-sops/example.txt",
        store: () => createBinaryStore(),
        expected: (s) => s + "\n",
        why: "sops 3.7.1 wrote no trailing newline; sops ≥ 3.10 does",
    },
    { path: "humphd-sops-age/HEAD/secret.enc.env", store: () => createDotenvStore() },
    { path: "humphd-sops-age/da83fb6/secret.enc.env", store: () => createDotenvStore() },
    { path: "getsops-sops-pgp/format.enc.env", store: () => createDotenvStore() },
    { path: "getsops-sops-pgp/format.enc.ini", store: () => createIniStore() },
    {
        path: "getsops-sops-pgp/format-2.enc.ini",
        store: () => createIniStore(),
        expected: (s) => s.replace(/"""([\s\S]*?)"""/g, (_m, inner: string) => inner.replaceAll("\n", "\\n")),
        why: "sops 3.13.0/3.13.1 wrote metadata newlines as real newlines in \"\"\"…\"\"\"; 3.13.2 writes a literal \\n",
    },
    {
        path: "getsops-sops/example.ini",
        store: () => createIniStore(),
        expected: (s) => sortIniSopsSection(s.replace(/\n\n$/, "\n")),
        why: "sops 3.7.1 wrote [sops] keys in Go map order and a blank line after the last section",
    },
    {
        path: "humphd-sops-age/5db138f/secret.enc.ini",
        store: () => createIniStore(),
        expected: sortIniSopsSection,
        why: "sops 3.8.1 wrote INI [sops] keys in Go map (random) order; 3.13 sorts them",
    },
    {
        path: "humphd-sops-age/da83fb6/secret.enc.ini",
        store: () => createIniStore(),
        expected: sortIniSopsSection,
        why: "sops 3.8.1 wrote INI [sops] keys in Go map (random) order; 3.13 sorts them",
    },
]

describe("real sops vectors: emitEncrypted(parseEncrypted(file))", () => {
    for (const v of VECTORS) {
        it(`${v.path}${v.why === undefined ? " is reproduced byte for byte" : `: ${v.why}`}`, () => {
            const input = read(v.path)
            const store = v.store()
            const out = text(store.emitEncrypted(store.parseEncrypted(input)))
            const want = v.expected === undefined ? input.toString("utf8") : v.expected(input.toString("utf8"))
            if (v.expected !== undefined) expect(want).not.toBe(input.toString("utf8"))
            expect(out).toBe(want)
        })
    }
})

function path(n: Node | undefined, ...keys: (string | number)[]): Node | undefined {
    let cur = n
    for (const k of keys) {
        if (cur === undefined) return undefined
        if (typeof k === "number") {
            if (cur.kind !== "list") return undefined
            const item = cur.items[k]
            cur = item === undefined || item.kind === "comment" ? undefined : item
        } else {
            if (cur.kind !== "map") return undefined
            cur = lookup(cur, k)
        }
    }
    return cur
}

function strAt(m: Mapping, ...keys: (string | number)[]): string {
    const n = path(m, ...keys)
    if (n?.kind !== "str") throw new Error(`no string at ${keys.join(".")}`)
    return n.value
}

describe("unflattened metadata", () => {
    it("dotenv: humphd-sops-age/HEAD/secret.enc.env", () => {
        const doc = createDotenvStore().parseEncrypted(read("humphd-sops-age/HEAD/secret.enc.env"))
        const enc = strAt(doc.metadata, "age", 0, "enc")
        expect(enc.startsWith("-----BEGIN AGE ENCRYPTED FILE-----\n")).toBe(true)
        expect(enc.endsWith("-----END AGE ENCRYPTED FILE-----\n")).toBe(true)
        expect(strAt(doc.metadata, "age", 0, "recipient")).toBe("age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr")
        expect(strAt(doc.metadata, "age", 2, "recipient")).toBe("age13runq29jhy9kfpaegczrzttykerswh0qprq59msgd754yermtfmsa3hwg2")
        expect(strAt(doc.metadata, "lastmodified")).toBe("2024-03-26T00:43:54Z")
        expect(strAt(doc.metadata, "version")).toBe("3.8.1")
        expect(doc.metadata.items.map((i) => (i.kind === "entry" ? i.key : "#"))).toEqual([
            "age", "lastmodified", "mac", "unencrypted_suffix", "version",
        ])
        expect(doc.branches[0]?.items.map((i) => (i.kind === "entry" ? i.key : "#"))).toEqual(["secret", "another_secret"])
    })

    it("INI: humphd-sops-age/5db138f/secret.enc.ini keeps a DEFAULT section and a [sops] section", () => {
        const doc = createIniStore().parseEncrypted(read("humphd-sops-age/5db138f/secret.enc.ini"))
        const enc = strAt(doc.metadata, "age", 1, "enc")
        expect(enc.startsWith("-----BEGIN AGE ENCRYPTED FILE-----\n")).toBe(true)
        expect(enc.endsWith("-----END AGE ENCRYPTED FILE-----\n")).toBe(true)
        expect(strAt(doc.metadata, "age", 1, "recipient")).toBe("age19j4d6v9j7rx5fs629fu387qz4zmlpsqjexa4s08tkfrrmfdl5cwqjlaupd")
        expect(strAt(doc.metadata, "lastmodified")).toBe("2024-03-26T00:24:08Z")
        const branch = doc.branches[0]
        if (branch === undefined) throw new Error("no branch")
        expect(branch.items.map((i) => (i.kind === "entry" ? i.key : "#"))).toEqual(["DEFAULT", "complex"])
        expect(strAt(branch, "DEFAULT", "secret")).toMatch(/^ENC\[AES256_GCM,data:lqBKPgtSKHgUIdEz9x1rbA==,/)
        expect(strAt(branch, "complex", "string")).toMatch(/^ENC\[AES256_GCM,data:rrCuH5h\+,/)
    })

    it("INI: format-2.enc.ini (3.13.1 triple quotes) gives real newlines", () => {
        const doc = createIniStore().parseEncrypted(read("getsops-sops-pgp/format-2.enc.ini"))
        const enc = strAt(doc.metadata, "pgp", 0, "enc")
        expect(enc.startsWith("-----BEGIN PGP MESSAGE-----\n\nwcBMAyUpShfNkFB")).toBe(true)
        expect(enc.endsWith("\n=j3Rn\n-----END PGP MESSAGE-----")).toBe(true)
        expect(enc.split("\n")).toHaveLength(12)
        const same = createIniStore().parseEncrypted(read("getsops-sops-pgp/format.enc.ini"))
        expect(strAt(same.metadata, "pgp", 0, "enc").split("\n")).toHaveLength(12)
    })

    it("JSON: metadata comes back as written, nulls included", () => {
        const doc = createJsonStore().parseEncrypted(read("getsops-sops/example.json"))
        expect(doc.metadata.items.map((i) => (i.kind === "entry" ? i.key : "#"))).toEqual([
            "kms", "gcp_kms", "azure_kv", "hc_vault", "age", "lastmodified", "mac", "pgp", "unencrypted_suffix", "version",
        ])
        expect(path(doc.metadata, "kms")).toEqual({ kind: "null" })
        expect(path(doc.branches[0], "anEmptyValue")).toEqual({ kind: "str", value: "" })
    })

    it("binary: the encrypted form is the JSON store's", () => {
        const doc = createBinaryStore().parseEncrypted(read("getsops-sops/example.txt"))
        expect(doc.branches[0]?.items.map((i) => (i.kind === "entry" ? i.key : "#"))).toEqual(["data"])
        expect(strAt(doc.metadata, "version")).toBe("3.7.1")
    })
})
