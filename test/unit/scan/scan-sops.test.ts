/**
 * src/files/scan-sops.ts: which files are sops files (or broken ones), and which
 * plain files sit where `.sops.yaml` says files are encrypted.
 */
import { describe, expect, it } from "vitest"
import { encryptedPathRule, sopsClassOf, type ConfigLookup } from "../../../src/files/scan-sops.js"

const bytes = (s: string) => new TextEncoder().encode(s)

function lookup(files: Record<string, string>): ConfigLookup & { warnings: string[] } {
    const warnings: string[] = []
    return { root: "/r", read: async (rel) => files[rel], warn: (m) => warnings.push(m), warnings }
}

describe("sops files", () => {
    it("tells a sops file, a broken one and a plain file with a sops: setting apart", async () => {
        const enc = "ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]"
        const good = `a: ${enc}\nsops:\n    age:\n        - recipient: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n          enc: x\n    lastmodified: "2025-01-01T00:00:00Z"\n    mac: ${enc}\n    version: 3.9.0\n`
        expect(await sopsClassOf("a.yaml", bytes(good))).toEqual({ kind: "sops", format: "yaml" })
        const noMac = good.replace(/    mac: .*\n/, "")
        expect(await sopsClassOf("a.yaml", bytes(noMac))).toEqual({ kind: "broken", format: "yaml", problem: "its sops metadata has no version or no MAC" })
        const bad = `${good}    surprise: 1\n`
        expect((await sopsClassOf("a.yaml", bytes(bad))).kind).toBe("broken")
        // Another tool's setting called sops is no sops file.
        expect(await sopsClassOf("tool.yaml", bytes("sops:\n  enabled: true\n"))).toEqual({ kind: "plain" })
        // A document that mentions "sops": in prose is not JSON.
        expect(await sopsClassOf("notes.md", bytes('the "sops": key, lastmodified\n'))).toEqual({ kind: "plain" })
    })
})

describe("encrypted paths", () => {
    it("the first matching creation rule with a path_regex, or secrets/; never a catch-all rule", async () => {
        const config = "creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: age1x\n  - age: age1x\n"
        const l = lookup({ ".sops.yaml": config })
        expect(await encryptedPathRule(l, "app.enc.yaml")).toBe(`.sops.yaml's creation_rules[0] (path_regex "\\\\.enc\\\\.yaml$")`)
        expect(await encryptedPathRule(l, "README.md")).toBeUndefined()
        expect(await encryptedPathRule(l, "secrets/x.txt")).toBe("the layout (files under secrets/ are encrypted)")
        expect(await encryptedPathRule(l, "secrets/.gitkeep")).toBeUndefined()
        expect(await encryptedPathRule(l, ".sops.yaml")).toBeUndefined()
    })

    it("uses the nearest .sops.yaml, relative to its directory, and Go regexp syntax", async () => {
        const l = lookup({
            ".sops.yaml": "creation_rules:\n  - path_regex: ^top/\n    age: age1x\n",
            "sub/.sops.yaml": "creation_rules:\n  - path_regex: ^(?i)KEYS/\n    age: age1x\n",
        })
        expect(await encryptedPathRule(l, "top/a.txt")).toMatch(/^\.sops\.yaml's creation_rules\[0\]/)
        expect(await encryptedPathRule(l, "sub/keys/a.txt")).toMatch(/^sub\/\.sops\.yaml's creation_rules\[0\]/)
        expect(await encryptedPathRule(l, "sub/top/a.txt")).toBeUndefined()
        expect(await encryptedPathRule(l, "sub/secrets/a.txt")).toBe("the layout (files under sub/secrets/ are encrypted)")
    })

    it("a config it cannot read is warned about once and checks nothing", async () => {
        const l = lookup({ ".sops.yaml": "creation_rules: [\n" })
        expect(await encryptedPathRule(l, "secrets/a.txt")).toBeUndefined()
        expect(await encryptedPathRule(l, "secrets/b.txt")).toBeUndefined()
        expect(l.warnings).toHaveLength(1)
        expect(l.warnings[0]).toMatch(/^\.sops\.yaml:\d+:\d+: invalid YAML.*; files under it are not checked for plaintext$/)
    })
})
