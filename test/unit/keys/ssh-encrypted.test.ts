/**
 * Passphrase-protected SSH keys and the X25519 twin of ed25519 keys, against keys
 * made by the real ssh-keygen and files written by Debian's age.
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { afterAll, describe, expect, it } from "vitest"

import { FormatError } from "../../../src/errors.js"
import { unwrapDataKey } from "../../../src/keys/age.js"
import { identityToRecipientString, parseIdentities, parseSshKeyIdentities } from "../../../src/keys/identity-file.js"
import { WrongPassphraseError } from "../../../src/keys/ssh-encrypted.js"
import { readSshKeyFile } from "../../../src/keys/ssh-parse.js"
import { sshEd25519ToAgeRecipient } from "../../../src/keys/ssh-to-age.js"
import { hex, run, tempDir } from "./helpers.js"

const PASS = "correct horse battery"

type LockedKey = { path: string; priv: string; pub: string }

/** Keys made once for the whole file (nothing here writes to them), removed at its end. */
const made = new Map<string, LockedKey>()
let keysDir: string | undefined
afterAll(() => {
    if (keysDir !== undefined) rmSync(keysDir, { recursive: true, force: true })
})

/**
 * ssh-keygen with a passphrase and extra flags (`-Z cipher`, `-m PEM`). Made once per
 * type, flags and `name` and shared by the tests that ask for it: an RSA key costs
 * ssh-keygen most of a second, and this file wanted eleven. `name` tells apart keys
 * that must differ (a file for another key of the same kind).
 */
function lockedKey(type: "ed25519" | "rsa", extra: string[] = [], name = "mine"): LockedKey {
    const id = [type, ...extra, name].join(" ")
    const known = made.get(id)
    if (known !== undefined) return known
    keysDir ??= mkdtempSync(join(tmpdir(), "secrets-keys-"))
    const path = join(keysDir, `id_${type}_${made.size}`)
    run("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", PASS, "-C", "me@host", ...extra, "-f", path])
    const key = { path, priv: readFileSync(path, "utf8"), pub: readFileSync(`${path}.pub`, "utf8") }
    made.set(id, key)
    return key
}

/** An unlock that answers `answer` and counts the questions; reports are kept. */
function unlockWith(answer: string | undefined) {
    const asked: string[] = []
    const reports: string[] = []
    return {
        asked,
        reports,
        unlock: {
            ...(answer !== undefined
                ? {
                      askPassphrase: async (source: string) => {
                          asked.push(source)
                          return answer
                      },
                  }
                : {}),
            report: (m: string) => reports.push(m),
        },
    }
}

const ageTo = (recipientFlag: string[], payload: Uint8Array): string => Buffer.from(run("age", ["-e", "-a", ...recipientFlag], payload)).toString()

for (const [type, extra] of [
    ["ed25519", []],
    ["rsa", []],
    ["ed25519", ["-Z", "aes256-cbc"]],
    ["rsa", ["-Z", "aes128-ctr"]],
] as const) {
    describe(`a passphrase-protected ssh-${type} key (${extra.length === 0 ? "ssh-keygen's default cipher" : extra.join(" ")})`, () => {
        it("opens a file that age -R encrypted to it, asking once, only when the file is for it", async () => {
            const key = lockedKey(type, [...extra])
            const payload = new Uint8Array(randomBytes(32))
            const enc = ageTo(["-R", `${key.path}.pub`], payload)
            const other = ageTo(["-R", `${lockedKey(type, [], "other").path}.pub`], payload)
            const u = unlockWith(PASS)
            const ids = parseIdentities(key.priv, key.path, { sshUnlock: u.unlock })

            expect(await unwrapDataKey(other, ids)).toBeNull()
            expect(u.asked).toEqual([])
            expect(hex(await unwrapDataKey(enc, ids))).toBe(hex(payload))
            expect(hex(await unwrapDataKey(enc, ids))).toBe(hex(payload))
            expect(u.asked).toEqual([key.path])
            expect(u.reports).toEqual([])
        })

        it("a wrong passphrase opens nothing and is reported once, naming the key file", async () => {
            const key = lockedKey(type, [...extra])
            const enc = ageTo(["-R", `${key.path}.pub`], new Uint8Array(32))
            const u = unlockWith("not the passphrase")
            const ids = parseIdentities(key.priv, key.path, { sshUnlock: u.unlock })
            expect(await unwrapDataKey(enc, ids)).toBeNull()
            expect(await unwrapDataKey(enc, ids)).toBeNull()
            expect(u.reports).toEqual([`${key.path}: incorrect passphrase`])
        })

        it("unlock gives the same key as ssh-keygen's public half; a wrong passphrase is WrongPassphraseError", async () => {
            const key = lockedKey(type, [...extra])
            const file = readSshKeyFile(key.priv, "k")
            expect(file.encrypted).toBe(true)
            if (!file.encrypted) return
            const unlocked = await file.unlock(PASS)
            expect(Buffer.from(unlocked.publicKey.wire)).toEqual(Buffer.from(file.publicKey!.wire))
            expect(await identityToRecipientString(parseIdentities(key.priv, "k")[0]!)).toBe(key.pub.split(" ").slice(0, 2).join(" "))
            await expect(file.unlock("nope")).rejects.toBeInstanceOf(WrongPassphraseError)
            await expect(file.unlock("")).rejects.toBeInstanceOf(WrongPassphraseError)
        })
    })
}

describe("without a terminal", () => {
    it("a file encrypted to the locked key is not opened and the reason is reported; no question is asked", async () => {
        const key = lockedKey("ed25519")
        const enc = ageTo(["-R", `${key.path}.pub`], new Uint8Array(32))
        const u = unlockWith(undefined)
        const ids = parseIdentities(key.priv, key.path, { sshUnlock: u.unlock })
        expect(await unwrapDataKey(enc, ids)).toBeNull()
        expect(u.reports).toEqual([`${key.path} is protected by a passphrase and there is no terminal to ask for it; run the command in a terminal`])
    })
})

describe("old PEM keys (ssh-keygen -m PEM) with a passphrase", () => {
    it("open with the .pub beside them, and are refused clearly without it", async () => {
        const key = lockedKey("rsa", ["-m", "PEM"])
        expect(key.priv).toMatch(/Proc-Type: 4,ENCRYPTED/)
        const payload = new Uint8Array(randomBytes(32))
        const enc = ageTo(["-R", `${key.path}.pub`], payload)
        const u = unlockWith(PASS)
        const ids = parseIdentities(key.priv, key.path, { sshUnlock: u.unlock, sshPublicKeyLine: key.pub })
        expect(hex(await unwrapDataKey(enc, ids))).toBe(hex(payload))

        const wrong = unlockWith("wrong")
        expect(await unwrapDataKey(enc, parseIdentities(key.priv, key.path, { sshUnlock: wrong.unlock, sshPublicKeyLine: key.pub }))).toBeNull()
        expect(wrong.reports).toEqual([`${key.path}: incorrect passphrase`])

        // The command line reads the .pub (identity-sources.test.ts); without its text:
        const err = (() => {
            try {
                parseIdentities(key.priv, key.path)
            } catch (e) {
                return e
            }
        })()
        expect(err).toBeInstanceOf(FormatError)
        expect((err as FormatError).message).toBe(`${key.path} is a passphrase-protected PEM key and ${key.path}.pub, its public half, is not beside it`)
    })

    it("a .pub that belongs to another key is an error at unlock, not a silent wrong key", async () => {
        const key = lockedKey("rsa", ["-m", "PEM"])
        const stranger = lockedKey("rsa", [], "other")
        const enc = ageTo(["-R", `${stranger.path}.pub`], new Uint8Array(32))
        const ids = parseIdentities(key.priv, key.path, { sshUnlock: unlockWith(PASS).unlock, sshPublicKeyLine: stranger.pub })
        await expect(unwrapDataKey(enc, ids)).rejects.toThrow(`${key.path}.pub is not the public key of ${key.path}`)
    })
})

describe("ciphers and KDFs Go's ssh package does not read", () => {
    it("are refused when the key is read, before any question, naming the cipher and the fix", () => {
        const key = lockedKey("ed25519", ["-Z", "aes256-gcm@openssh.com"])
        expect(() => parseIdentities(key.priv, "id_gcm")).toThrow('id_gcm: unsupported key cipher "aes256-gcm@openssh.com"')
    })
})

describe("the X25519 twin of an ed25519 key (sops age/ssh_parse.go)", () => {
    it("an open key opens a file age encrypted to its ssh-to-age recipient", async () => {
        const path = join(tempDir(), "host_key")
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path])
        const recipient = sshEd25519ToAgeRecipient(readFileSync(`${path}.pub`, "utf8"))
        const payload = new Uint8Array(randomBytes(32))
        const enc = ageTo(["-r", recipient], payload)
        const { identities, label } = parseSshKeyIdentities(readFileSync(path, "utf8"), path)
        expect(label).toBe("ssh-ed25519 key")
        expect(hex(await unwrapDataKey(enc, identities, recipient))).toBe(hex(payload))
        expect(await identityToRecipientString(identities[1]!)).toBe(recipient)
    })

    it("a locked key asks only for the entry of its own recipient, then opens it", async () => {
        const key = lockedKey("ed25519")
        const recipient = sshEd25519ToAgeRecipient(key.pub)
        const payload = new Uint8Array(randomBytes(32))
        const mine = ageTo(["-r", recipient], payload)
        const someoneElse = Buffer.from(run("age-keygen", [])).toString().match(/age1[a-z0-9]+/)![0]
        const theirs = ageTo(["-r", someoneElse], payload)
        const u = unlockWith(PASS)
        const { identities, label } = parseSshKeyIdentities(key.priv, key.path, { sshUnlock: u.unlock })
        expect(label).toBe("ssh-ed25519 key, passphrase-protected")

        expect(await unwrapDataKey(theirs, identities, someoneElse)).toBeNull()
        // Without the entry's recipient the twin is not tried at all.
        expect(await unwrapDataKey(mine, identities)).toBeNull()
        expect(u.asked).toEqual([])
        expect(hex(await unwrapDataKey(mine, identities, recipient))).toBe(hex(payload))
        expect(u.asked).toEqual([key.path])
    })
})
