import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"

import { describe, expect, it } from "vitest"

import { FormatError } from "../../../src/errors.js"
import { unwrapDataKey } from "../../../src/keys/age.js"
import { identityToRecipientString } from "../../../src/keys/identity-file.js"
import { sshEd25519PrivateToAgeIdentity, sshEd25519ToAgeRecipient } from "../../../src/keys/ssh-to-age.js"
import { hex, INTEROP, run, sshKeygen, tempDir, write } from "./helpers.js"

const nix = join(INTEROP, "sops-nix")

describe("ssh-to-age conversion", () => {
    it("sops-nix's ssh-ed25519-key converts to the derived identity and recipient age1a8pk4…", async () => {
        const derived = readFileSync(join(nix, "ssh-ed25519-key.derived-age-key.txt"), "utf8")
        const expectedIdentity = derived.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"))
        const identity = sshEd25519PrivateToAgeIdentity(readFileSync(join(nix, "ssh-ed25519-key"), "utf8"))
        expect(identity).toBe(expectedIdentity)
        expect(identity).toBe("AGE-SECRET-KEY-1D88T3T22862F5SWX0V7M7CG9Q5T9FA90CCN9NVLJRCQATZ3WGL3QMR7CN4")
        const recipient = sshEd25519ToAgeRecipient(readFileSync(join(nix, "ssh-ed25519-key.pub"), "utf8"))
        expect(recipient).toBe("age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs")
        expect(await identityToRecipientString(identity)).toBe(recipient)
    })

    it("the converted identity opens the sops-nix file's second (ssh-to-age) stanza", async () => {
        const identity = sshEd25519PrivateToAgeIdentity(readFileSync(join(nix, "ssh-ed25519-key"), "utf8"))
        const text = readFileSync(join(nix, "HEAD/secrets.yaml"), "utf8")
        const blocks = [...text.matchAll(/-----BEGIN AGE ENCRYPTED FILE-----[\s\S]*?-----END AGE ENCRYPTED FILE-----/g)].map(
            (m) => m[0].split("\n").map((l) => l.trim()).join("\n") + "\n",
        )
        const keys = await Promise.all(blocks.map((b) => unwrapDataKey(b, [identity])))
        const want = (JSON.parse(readFileSync(join(INTEROP, "_derived/datakeys.json"), "utf8")) as Record<string, { datakey_hex: string }>)[
            "sops-nix/HEAD/secrets.yaml"
        ]?.datakey_hex
        expect(keys.map(hex)).toEqual([null, want])
    })

    it("a fresh ssh-keygen key: age -r <converted recipient> opens with the converted identity, and age agrees on the recipient", async () => {
        const dir = tempDir()
        const key = sshKeygen(dir, "ed25519")
        const recipient = sshEd25519ToAgeRecipient(key.pub)
        const identity = sshEd25519PrivateToAgeIdentity(key.priv)
        const idPath = write(dir, "converted.txt", identity + "\n")
        expect(Buffer.from(run("age-keygen", ["-y", idPath])).toString().trim()).toBe(recipient)
        const payload = new Uint8Array(randomBytes(32))
        const enc = Buffer.from(run("age", ["-e", "-a", "-r", recipient], payload)).toString()
        expect(hex(await unwrapDataKey(enc, [identity]))).toBe(hex(payload))
        expect(hex(run("age", ["-d", "-i", idPath], enc))).toBe(hex(payload))
    })

    it("refuses rsa keys", () => {
        const key = sshKeygen(tempDir(), "rsa")
        expect(() => sshEd25519ToAgeRecipient(key.pub)).toThrow(new FormatError("only ssh-ed25519 keys can be converted to age keys"))
        expect(() => sshEd25519PrivateToAgeIdentity(key.priv)).toThrow(FormatError)
    })
})
