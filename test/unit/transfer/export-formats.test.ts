/**
 * The export formats (src/transfer/export-formats.ts, flat-values.ts): env text
 * that real bash reads back exactly (property test), docker's env-file rules, and a
 * Kubernetes Secret checked field by field against the Secret v1 API reference
 * (apiVersion, kind, metadata.name as a DNS-1123 subdomain, stringData keys as
 * IsConfigMapKey, type Opaque). kubectl is not installed here, so the check is
 * written from the Kubernetes API documentation rather than run by kubectl.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parse as parseYaml } from "yaml"
import { entry, int, list, map, nil, str, float, bool } from "../../../src/core/tree.js"
import { SecretsError } from "../../../src/errors.js"
import { dockerEnvText, envText, secretNameFor } from "../../../src/transfer/export-formats.js"
import { exportText } from "../../../src/transfer/export-text.js"
import { flatValues } from "../../../src/transfer/flat-values.js"
import { parseDotenvSource } from "../../../src/transfer/dotenv-source.js"
import { tempDir } from "../../helpers/tmp.js"
import { treeToJs } from "../../helpers/tree-to-js.js"

/** Source `text` with bash and print the named variables NUL-separated. */
function sourceWithBash(dir: string, text: string, names: readonly string[]): string[] {
    writeFileSync(join(dir, "out.env"), text)
    const script = `set -euo pipefail; . ./out.env; for n in ${names.join(" ")}; do printf '%s\\0' "\${!n}"; done`
    const out = execFileSync("bash", ["--norc", "--noprofile", "-c", script], { cwd: dir, env: {} }).toString("utf8")
    return out.split("\0").slice(0, names.length)
}

function refusal(fn: () => unknown): SecretsError {
    try {
        fn()
    } catch (e) {
        if (e instanceof SecretsError) return e
        throw e
    }
    throw new Error("expected a SecretsError")
}

/** Shell names, prefixed so that none is one of bash's own (`_`, UID, RANDOM, PATH…), which sourcing cannot set. */
const name = fc.stringMatching(/^[A-Za-z0-9_]{0,12}$/).map((s) => `S_${s}`)
/** Any text but NUL: quotes, $, backticks, backslashes, newlines, unicode beyond the BMP. */
const value = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 30 }),
    fc.string({ unit: fc.constantFrom("'", '"', "$", "`", "\\", "\n", "\r", " ", "!", "#", "(", ")", "*", "a", "é", "🗝"), maxLength: 30 }),
).filter((v) => !v.includes("\0"))

describe("env export", () => {
    it("is read back by bash with exactly the values it was given", () => {
        const dir = tempDir()
        fc.assert(
            fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, minLength: 1, maxLength: 6 }), (pairs) => {
                const got = sourceWithBash(dir, envText(pairs), pairs.map(([n]) => n))
                expect(got).toEqual(pairs.map(([, v]) => v))
            }),
            { numRuns: 60 },
        )
    })

    it("is read back by secrets import's .env reader too (the import/export round trip)", () => {
        fc.assert(
            fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 6 }), (pairs) => {
                expect(treeToJs(parseDotenvSource(envText(pairs)))).toEqual(Object.fromEntries(pairs))
            }),
            { numRuns: 200 },
        )
    })

    it("refuses a name bash cannot assign and a NUL byte, naming the key and not the value", () => {
        expect(refusal(() => envText([["my-key", "v"]])).message).toBe('"my-key" is not a shell variable name')
        const nul = refusal(() => envText([["K", "s3cret\0x"]]))
        expect(nul.message).toBe('the value of "K" contains a NUL byte, which no environment variable can hold')
    })
})

describe("docker env-file export", () => {
    it("writes NAME=value verbatim: quotes, spaces, # and = stay part of the value", () => {
        expect(dockerEnvText([["A", "'q' \"d\" # x = y  "], ["B", ""]])).toBe("A='q' \"d\" # x = y  \nB=\n")
    })

    it("refuses a line break in a value, naming the key only", () => {
        for (const v of ["s3cret\nx", "s3cret\rx"]) {
            const e = refusal(() => dockerEnvText([["TLS_KEY", v]]))
            expect(e.message).toBe('the value of "TLS_KEY" has a line break, which a docker env-file cannot hold')
            expect([e.message, ...e.hints].join()).not.toContain("s3cret")
        }
    })

    it("refuses names docker would misread: whitespace, =, a leading #", () => {
        for (const n of ["A B", "A=B", "#A", ""]) expect(() => dockerEnvText([[n, "v"]])).toThrow(SecretsError)
    })
})

describe("flattening for env, docker and k8s-secret", () => {
    it("joins nested keys and list indexes with __ and writes scalars as sops' dotenv does", () => {
        const doc = map(entry("db", map(entry("user", str("u")), entry("port", int(5432)))), entry("hosts", list(str("a"), str("b"))), entry("f", float(1)), entry("t", bool(true)))
        expect(flatValues(doc).pairs).toEqual([["db__user", "u"], ["db__port", "5432"], ["hosts__0", "a"], ["hosts__1", "b"], ["f", "1.0"], ["t", "true"]])
    })

    it("leaves nulls and empty mappings out and reports their paths", () => {
        const doc = map(entry("a", nil), entry("b", map()), entry("c", str("x")))
        expect(flatValues(doc)).toEqual({ pairs: [["c", "x"]], skipped: ['["a"]', '["b"]'] })
    })

    it("refuses two paths that flatten to one name, naming both", () => {
        const doc = map(entry("a__b", str("1")), entry("a", map(entry("b", str("2")))))
        expect(refusal(() => flatValues(doc)).message).toBe('["a__b"] and ["a"]["b"] both flatten to the name "a__b"')
    })
})

/** The checks the API server applies to a Secret, from the Kubernetes API reference (Secret v1 core) and apimachinery's validation. */
function validateSecretManifest(m: unknown): string[] {
    const problems: string[] = []
    const o = m as Record<string, unknown>
    if (o.apiVersion !== "v1") problems.push("apiVersion must be v1")
    if (o.kind !== "Secret") problems.push("kind must be Secret")
    const meta = o.metadata as Record<string, unknown> | undefined
    const nameOk = typeof meta?.name === "string" && meta.name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(meta.name)
    if (!nameOk) problems.push("metadata.name must be a DNS-1123 subdomain")
    if (meta?.namespace !== undefined && !(typeof meta.namespace === "string" && meta.namespace.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(meta.namespace))) {
        problems.push("metadata.namespace must be a DNS-1123 label")
    }
    if (o.type !== "Opaque") problems.push("type must be Opaque")
    const data = o.stringData as Record<string, unknown> | undefined
    if (data === null || typeof data !== "object") problems.push("stringData must be a map")
    for (const [k, v] of Object.entries(data ?? {})) {
        if (!(k.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(k) && k !== "." && k !== ".." && !k.startsWith(".."))) problems.push(`stringData key ${k} is invalid`)
        if (typeof v !== "string") problems.push(`stringData.${k} must be a string`)
    }
    for (const k of Object.keys(o)) if (!["apiVersion", "kind", "metadata", "type", "stringData", "data", "immutable"].includes(k)) problems.push(`unknown field ${k}`)
    return problems
}

describe("k8s-secret export", () => {
    const doc = map(
        entry("API_TOKEN", str("t0k'en\"$x")),
        entry("db", map(entry("password", str("line 1\nline 2\n")), entry("port", int(5432)))),
        entry("tls.crt", str("-----BEGIN-----\nabc\n-----END-----")),
        entry("yes", str("yes")),
    )

    it("is a valid v1 Secret whose stringData holds exactly the values as strings", async () => {
        const out = await exportText(doc, { format: "k8s-secret", name: "app-prod", namespace: "prod" })
        const manifest = parseYaml(new TextDecoder().decode(out.bytes)) as Record<string, unknown>
        expect(validateSecretManifest(manifest)).toEqual([])
        expect(manifest.metadata).toEqual({ name: "app-prod", namespace: "prod" })
        expect(manifest.stringData).toEqual({
            API_TOKEN: "t0k'en\"$x",
            db__password: "line 1\nline 2\n",
            db__port: "5432",
            "tls.crt": "-----BEGIN-----\nabc\n-----END-----",
            yes: "yes",
        })
    })

    it("the validator itself rejects what the API server rejects", () => {
        expect(validateSecretManifest({ apiVersion: "v1", kind: "Secret", metadata: { name: "Bad_Name" }, type: "Opaque", stringData: { "a b": 1 } })).toEqual([
            "metadata.name must be a DNS-1123 subdomain",
            "stringData key a b is invalid",
            "stringData.a b must be a string",
        ])
    })

    it("refuses a key that is not a valid Secret key, and a bad name or namespace", async () => {
        await expect(exportText(map(entry("my key", str("v"))), { format: "k8s-secret", name: "a" })).rejects.toThrow('"my key" cannot be a key of a Kubernetes Secret')
        await expect(exportText(map(entry("..x", str("v"))), { format: "k8s-secret", name: "a" })).rejects.toThrow(SecretsError)
        await expect(exportText(doc, { format: "k8s-secret", name: "App" })).rejects.toThrow('"App" is not a valid Secret name')
        await expect(exportText(doc, { format: "k8s-secret", name: "a", namespace: "a.b" })).rejects.toThrow('"a.b" is not a valid namespace')
    })

    it("names the Secret after the file, as a DNS-1123 subdomain", () => {
        expect(secretNameFor("secrets/App_Prod.enc.yaml")).toBe("app-prod")
        expect(secretNameFor("./.env")).toBe("env")
        expect(secretNameFor("x/__.yaml")).toBeUndefined()
        for (const f of ["a/B C.yaml", "-x-.json", "Ü.env", "a".repeat(300) + ".yaml"]) {
            const n = secretNameFor(f)
            if (n !== undefined) expect(validateSecretManifest({ apiVersion: "v1", kind: "Secret", metadata: { name: n }, type: "Opaque", stringData: {} })).toEqual([])
        }
    })
})
