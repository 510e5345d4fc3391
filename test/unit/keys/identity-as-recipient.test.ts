/**
 * Issue 10 §8: a secret key given where a recipient belongs is named as such and
 * never echoed, whether it comes from a flag (parseRecipient) or from .sops.yaml.
 */
import { describe, expect, it } from "vitest"
import { looksLikeIdentity } from "../../../src/core/identity-text.js"
import { parseConfig } from "../../../src/config/load.js"
import { parseRecipient } from "../../../src/keys/recipient.js"
import { generateX25519Identity } from "../../../src/keys/age.js"
import type { SecretsError } from "../../../src/errors.js"
import { thrown as thrownError } from "../../helpers/errors.js"
import { ageKeygen, run, tempDir } from "../../helpers/tmp.js"
import { join } from "node:path"
import { readFileSync } from "node:fs"

const thrown = (f: () => unknown) => thrownError(f) as SecretsError

const everything = (e: SecretsError) => [e.message, ...e.hints].join("\n")

describe("a secret key given as a recipient", () => {
    it("age-keygen's key line, lower-cased, a whole key file, our own, PQ and plugin keys are refused without being echoed", async () => {
        const dir = tempDir()
        const k = ageKeygen(dir, "k")
        const line = k.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!
        const made = await generateX25519Identity()
        for (const given of [line, line.toLowerCase(), k.text, ` ${line} `, made.identity, "AGE-SECRET-KEY-PQ-1QQQQ", "AGE-PLUGIN-YUBIKEY-1QQQ"]) {
            const e = thrown(() => parseRecipient(given))
            expect(e.message).toBe("this is an identity (secret key), not a recipient")
            expect(everything(e)).not.toContain(given.trim().slice(16, 40))
        }
    })

    it("an ssh-keygen private key (OpenSSH and PEM RSA) is refused the same way", () => {
        const dir = tempDir()
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "ed")])
        run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f", join(dir, "rsa")])
        for (const f of ["ed", "rsa"]) {
            const text = readFileSync(join(dir, f), "utf8")
            expect(looksLikeIdentity(text)).toBe(true)
            const e = thrown(() => parseRecipient(text))
            expect(e.message).toBe("this is an identity (secret key), not a recipient")
            expect(everything(e)).not.toContain(text.split("\n")[1]!.slice(0, 30))
        }
    })

    it("recipients are still recipients", () => {
        const dir = tempDir()
        const k = ageKeygen(dir, "k")
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "ed")])
        expect(looksLikeIdentity(k.recipient)).toBe(false)
        expect(looksLikeIdentity(readFileSync(join(dir, "ed.pub"), "utf8"))).toBe(false)
        expect(parseRecipient(k.recipient).kind).toBe("x25519")
    })

    it("in .sops.yaml, as a rule's age string or in a key group, the error names the field and not the key", () => {
        const dir = tempDir()
        const k = ageKeygen(dir, "k")
        const line = k.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!
        const configs = {
            "creation_rules[0].age": `creation_rules:\n  - age: ${k.recipient},${line}\n`,
            "creation_rules[0].key_groups[0].age[1]": `creation_rules:\n  - key_groups:\n      - age:\n          - ${k.recipient}\n          - ${line}\n`,
        }
        for (const [field, text] of Object.entries(configs)) {
            const e = thrown(() => parseConfig(text, "/repo/.sops.yaml"))
            expect(e.message).toContain(field)
            expect(e.message).toContain("this is an identity (secret key), not a recipient")
            expect(everything(e)).not.toContain(line.slice(16))
        }
    })
})
