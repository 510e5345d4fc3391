/**
 * Our own rules of `secrets scan` (src/core/scan-rules.ts): age identities, the
 * tool's lock and state files, masking and the clear parts of a sops file. Keys
 * come from Debian's age-keygen at run time, so this file holds none.
 */
import { execFileSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import {
    AGE_SECRET_KEY_RULE,
    ageSecretKeyMatches,
    clearPartsOfSopsText,
    LineIndex,
    lineAndColumn,
    maskCredential,
    maskedExcerpt,
    toolStateReason,
} from "../../../src/core/scan-rules.js"

function ageKey(): string {
    const out = execFileSync("age-keygen", [], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    const key = out.split("\n").find((l) => l.startsWith("AGE-"))
    if (key === undefined) throw new Error("age-keygen printed no key")
    return key
}

describe("secrets/age-secret-key", () => {
    it("finds an age-keygen identity at its offset, upper or lower case, and nothing cut short or mixed", () => {
        const key = ageKey()
        const text = `# a key\nidentity: ${key}\n`
        const m = ageSecretKeyMatches(text)
        expect(m).toEqual([{ ruleId: AGE_SECRET_KEY_RULE, message: "age secret key", start: text.indexOf(key), end: text.indexOf(key) + key.length }])
        expect(lineAndColumn(text, m[0]!.start)).toEqual({ line: 2, column: 11 })
        expect(ageSecretKeyMatches(key.toLowerCase())).toHaveLength(1)
        expect(ageSecretKeyMatches(key.slice(0, -1))).toEqual([])
        const mixed = key.slice(0, 20) + key.slice(20).toLowerCase()
        expect(ageSecretKeyMatches(mixed)).toEqual([])
        // A word of the docs is no key.
        expect(ageSecretKeyMatches("an AGE-SECRET-KEY-1 line, AGE-SECRET-KEY-1… in prose")).toEqual([])
    })

    it("finds a plugin identity", () => {
        const body = ageKey().slice("AGE-SECRET-KEY-1".length, "AGE-SECRET-KEY-1".length + 40)
        const plugin = ["AGE-PLUGIN-", "YUBIKEY-1", body].join("")
        const m = ageSecretKeyMatches(`x ${plugin}\n`)
        expect(m.map((x) => [x.message, x.start, x.end])).toEqual([["age plugin identity", 2, 2 + plugin.length]])
    })
})

describe("secrets/tool-state-file", () => {
    it("names our locks, break locks, atomic temps and the legacy rotation state; not other projects' lock files", () => {
        expect(toolStateReason("secrets/app.yaml.lock", false)).toBe("a lock file of the tool")
        expect(toolStateReason("app.json.lock", false)).toBe("a lock file of the tool")
        expect(toolStateReason("deep/secrets/x.lock", false)).toBe("a lock file of the tool")
        expect(toolStateReason("app.yaml.lock.break", false)).toMatch(/lock of the tool/)
        expect(toolStateReason("conf/.app.yaml.0123456789ab.tmp", false)).toMatch(/unfinished atomic write/)
        expect(toolStateReason(".secrets/rotate-alice.json", false)).toMatch(/keys rotate state/)
        expect(toolStateReason("yarn.lock", false)).toBeUndefined()
        expect(toolStateReason("flake.lock", false)).toBeUndefined()
        // A yarn.lock-like name holding our lock's JSON is ours.
        expect(toolStateReason("run/store.d.lock", true)).toBe("a lock file of the tool")
        expect(toolStateReason("run/secrets.d/3/.manifest.json.tmp", false)).toMatch(/deploy manifest/)
        expect(toolStateReason("notes.tmp", false)).toBeUndefined()
        expect(toolStateReason("app.yaml", false)).toBeUndefined()
    })
})

describe("masking", () => {
    it("keeps 4 characters of each credential on the line, cuts a range at the line's end, never shows the rest", () => {
        const a = ["gh", "p_", "X".repeat(36)].join("")
        const b = ["xo", "xb-", "1".repeat(30)].join("")
        const text = `first\nA=${a} B=${b}\nlast\n`
        const ranges = [
            { start: text.indexOf(a), end: text.indexOf(a) + a.length },
            { start: text.indexOf(b), end: text.indexOf(b) + b.length },
        ]
        expect(maskedExcerpt(text, ranges[0]!.start, ranges)).toBe("A=ghp_… B=xoxb…")
        // A range over several lines (a PEM block) shows the first line's 4 characters only.
        const pem = `k: |\n  -----BEGIN X-----\n  ${"Q".repeat(60)}\n  -----END X-----\n`
        const start = pem.indexOf("-----BEGIN")
        expect(maskedExcerpt(pem, start, [{ start, end: pem.indexOf("END X-----") + 10 }])).toBe("----…")
        expect(maskCredential("abc")).toBe("****")
    })

    it("cuts a long line around the finding", () => {
        const secret = "S".repeat(50)
        const text = `${"a".repeat(500)} key=${secret} ${"b".repeat(500)}`
        const start = text.indexOf(secret)
        const out = maskedExcerpt(text, start, [{ start, end: start + secret.length }])
        expect(out.length).toBeLessThanOrEqual(162)
        expect(out).toContain("key=SSSS…")
        expect(out).not.toContain("SSSSS")
        expect(out.startsWith("…") && out.endsWith("…")).toBe(true)
    })
})

describe("line index", () => {
    it("turns offsets into 1-based lines and columns", () => {
        const text = "ab\ncd\n\nef"
        const lines = new LineIndex(text)
        expect([0, 1, 2, 3, 6, 7, 8].map((o) => lines.locate(o))).toEqual([
            { line: 1, column: 1 },
            { line: 1, column: 2 },
            { line: 1, column: 3 },
            { line: 2, column: 1 },
            { line: 3, column: 1 },
            { line: 4, column: 1 },
            { line: 4, column: 2 },
        ])
        expect(lineAndColumn(text, 7)).toEqual({ line: 4, column: 1 })
    })
})

describe("clear parts of a sops file", () => {
    it("blanks ENC values, armored data keys and key envelopes, offsets and lines kept; clear values stay", () => {
        const enc = "ENC[AES256_GCM,data:Zm9vYmFyYmF6cXV4,iv:aXZpdml2aXZpdml2aXZpdg==,tag:dGFndGFndGFndGFndGFndA==,type:str]"
        const text = [
            `password: ${enc}`,
            "api_unencrypted: clear-value",
            "sops:",
            "    kms:",
            "        - arn: arn:aws:kms:us-east-1:111111111111:key/x",
            "          enc: AQICAHhQ0123456789abcdefghijklmnopqrstuvwxyz",
            "    age:",
            "        - recipient: age1xyz",
            "          enc: |",
            "            -----BEGIN AGE ENCRYPTED FILE-----",
            "            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBabc",
            "            -----END AGE ENCRYPTED FILE-----",
            `    mac: ${enc}`,
            "",
        ].join("\n")
        const clear = clearPartsOfSopsText(text)
        expect(clear).toHaveLength(text.length)
        expect(clear.split("\n").length).toBe(text.split("\n").length)
        expect(clear).not.toContain("ENC[")
        expect(clear).not.toContain("Zm9v")
        expect(clear).not.toContain("AQICAH")
        expect(clear).not.toContain("YWdl")
        expect(clear).not.toContain("BEGIN AGE")
        expect(clear).toContain("api_unencrypted: clear-value")
        expect(clear).toContain("recipient: age1xyz")
        // JSON metadata too.
        const json = `{"a": "${enc}", "sops": {"age": [{"recipient": "age1x", "enc": "-----BEGIN AGE ENCRYPTED FILE-----\\nYWdlLWVuY3J5cHRpb24ub3Jn\\n-----END AGE ENCRYPTED FILE-----\\n"}]}}`
        // Unterminated armor is left as it is, in one pass (a lazy regex rescans to the end from each BEGIN).
        const planted = "-----BEGIN AGE ENCRYPTED FILE-----\n".repeat(50_000) + "x: -----BEGIN PGP MESSAGE-----\nQUJD\n-----END PGP MESSAGE-----\n"
        const plantedClear = clearPartsOfSopsText(planted)
        expect(plantedClear.startsWith("-----BEGIN AGE ENCRYPTED FILE-----\n")).toBe(true)
        expect(plantedClear).not.toContain("QUJD")
        const clearJson = clearPartsOfSopsText(json)
        expect(clearJson).toHaveLength(json.length)
        expect(clearJson).not.toContain("YWdl")
        expect(clearJson).not.toContain("Zm9v")
    })
})
