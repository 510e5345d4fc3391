import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Encrypter, armor, generateIdentity, identityToRecipient } from "age-encryption"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

import { collectIdentities, defaultKeyFile, explainNoIdentity, type IdentityContext } from "../../../src/files/identity-sources.js"
import { NoIdentityError, SecretsError } from "../../../src/errors.js"
import { unwrapDataKey, wrapDataKey, type AgeIdentity } from "../../../src/keys/age.js"
import { identityToRecipientString } from "../../../src/keys/identity-file.js"
import { sshEd25519PrivateToAgeIdentity } from "../../../src/keys/ssh-to-age.js"
import { run } from "../../helpers/tmp.js"

const HOME = "/home/u"

interface Fake {
    ctx: IdentityContext
    files: Map<string, Uint8Array | string>
    commands: { cmd: string; recipient: string | undefined; env: unknown }[]
    prompts: string[]
}

function fake(env: Record<string, string>, over: Partial<IdentityContext> = {}, cmdOut: (recipient?: string) => string = () => ""): Fake {
    const files = new Map<string, Uint8Array | string>()
    const commands: Fake["commands"] = []
    const prompts: string[] = []
    const ctx: IdentityContext = {
        env,
        homedir: HOME,
        platform: "linux",
        exists: async (p) => files.has(p),
        readFile: async (p) => {
            const f = files.get(p)
            if (f === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" })
            return f
        },
        runKeyCommand: async (cmd, e, recipient) => {
            commands.push({ cmd, recipient, env: e })
            return cmdOut(recipient)
        },
        ...over,
    }
    return { ctx, files, commands, prompts }
}

/** Identities as comparable labels: age keys as themselves, SSH identities by their public key type. */
async function labels(ids: readonly AgeIdentity[]): Promise<string[]> {
    return Promise.all(ids.map(async (id) => (typeof id === "string" ? id : (await identityToRecipientString(id)).split(" ")[0]!)))
}

async function passphraseFile(text: string, passphrase: string): Promise<string> {
    const e = new Encrypter()
    e.setPassphrase(passphrase)
    e.setScryptWorkFactor(10)
    return armor.encode(await e.encrypt(text))
}

let k: string[] = []
let ed25519 = ""
let rsa = ""
let ed25519Locked = ""
let ed25519LockedPub = ""
let pemLocked = ""
let pemLockedPub = ""
let sshPub = ""

// The SSH keys' directory. Removed in a top-level afterAll: a hook registered inside
// beforeAll never runs, and left private keys in /tmp after every run.
let dir = ""
afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

beforeAll(async () => {
    k = await Promise.all(Array.from({ length: 7 }, () => generateIdentity()))
    dir = mkdtempSync(join(tmpdir(), "secrets-test-"))
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "ed")])
    run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "", "-f", join(dir, "rsa")])
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "pw", "-C", "", "-f", join(dir, "locked")])
    ed25519 = readFileSync(join(dir, "ed"), "utf8")
    sshPub = readFileSync(join(dir, "ed.pub"), "utf8").trim()
    rsa = readFileSync(join(dir, "rsa"), "utf8")
    ed25519Locked = readFileSync(join(dir, "locked"), "utf8")
    ed25519LockedPub = readFileSync(join(dir, "locked.pub"), "utf8")
    run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "pemPassword", "-C", "", "-f", join(dir, "pem")])
    pemLocked = readFileSync(join(dir, "pem"), "utf8")
    pemLockedPub = readFileSync(join(dir, "pem.pub"), "utf8")
})

describe("collectIdentities", () => {
    it("with nothing anywhere, lists every place it looked, in sops order", async () => {
        const r = await collectIdentities(fake({}).ctx)
        expect(r.identities).toEqual([])
        expect(r.lookedIn).toEqual([
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)",
            "SOPS_AGE_SSH_PRIVATE_KEY_CMD (not set)",
            "/home/u/.ssh/id_ed25519 (not found)",
            "/home/u/.ssh/id_rsa (not found)",
            "SOPS_AGE_KEY (not set)",
            "SOPS_AGE_KEY_FILE (not set)",
            "SOPS_AGE_KEY_CMD (not set)",
            "/home/u/.config/sops/age/keys.txt (not found)",
        ])
        expect(r.warnings).toEqual([])
    })

    it("combines every source, in sops order", async () => {
        const f = fake(
            {
                SOPS_AGE_SSH_PRIVATE_KEY_FILE: "/keys/deploy",
                SOPS_AGE_KEY: `# CI secret\n${k[0]} ${k[1]}\t${k[2]}\n`,
                SOPS_AGE_KEY_FILE: "/keys/age.txt",
                SOPS_AGE_KEY_CMD: "op read op://vault/age",
                XDG_CONFIG_HOME: "/xdg",
            },
            {},
            () => `${k[4]}\n`,
        )
        f.files.set("/keys/deploy", ed25519)
        f.files.set(`${HOME}/.ssh/id_rsa`, new TextEncoder().encode(rsa))
        f.files.set("/keys/age.txt", `# created: 2024-01-01\n# public key: age1…\n${k[3]}\r\n`)
        f.files.set("/xdg/sops/age/keys.txt", `${k[5]}\n\n${k[6]}\n`)
        const r = await collectIdentities(f.ctx)
        // An ed25519 key comes with its X25519 twin, as ssh-to-age converts it (sops age/ssh_parse.go).
        const twin = sshEd25519PrivateToAgeIdentity(ed25519)
        expect(await labels(r.identities)).toEqual(["ssh-ed25519", twin, "ssh-rsa", k[0], k[1], k[2], k[3], k[4], k[5], k[6]])
        expect(r.lookedIn).toEqual([
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE=/keys/deploy (ssh-ed25519 key)",
            "SOPS_AGE_SSH_PRIVATE_KEY_CMD (not set)",
            "/home/u/.ssh/id_ed25519 (not found)",
            "/home/u/.ssh/id_rsa (ssh-rsa key)",
            "SOPS_AGE_KEY (3 keys)",
            "SOPS_AGE_KEY_FILE=/keys/age.txt (1 key)",
            "SOPS_AGE_KEY_CMD (1 key)",
            "/xdg/sops/age/keys.txt (2 keys)",
        ])
        expect(r.warnings).toEqual([])
        expect(f.commands).toEqual([{ cmd: "op read op://vault/age", recipient: undefined, env: f.ctx.env }])
    })

    it("the collected identities really open data keys wrapped to them (age and ssh)", async () => {
        const f = fake({ SOPS_AGE_KEY: k[2]! })
        f.files.set(`${HOME}/.ssh/id_ed25519`, ed25519)
        const r = await collectIdentities(f.ctx)
        const dataKey = new Uint8Array(32).fill(7)
        for (const recipient of [await identityToRecipient(k[2]!), sshPub]) {
            expect(await unwrapDataKey(await wrapDataKey(recipient, dataKey), r.identities)).toEqual(dataKey)
        }
        expect(await unwrapDataKey(await wrapDataKey(await identityToRecipient(k[3]!), dataKey), r.identities)).toBeNull()
    })

    it("runs the key commands once per recipient with SOPS_AGE_RECIPIENT, the SSH one first", async () => {
        const f = fake(
            { SOPS_AGE_SSH_PRIVATE_KEY_CMD: "ssh-key-cmd", SOPS_AGE_KEY_CMD: "age-key-cmd" },
            { recipients: ["age1one", "age1two"] },
            (recipient) => (recipient === "age1one" ? `${k[0]}\n` : ""),
        )
        const r = await collectIdentities(f.ctx)
        expect(f.commands.map((c) => [c.cmd, c.recipient])).toEqual([
            ["ssh-key-cmd", "age1one"],
            ["ssh-key-cmd", "age1two"],
            ["age-key-cmd", "age1one"],
            ["age-key-cmd", "age1two"],
        ])
        expect(r.identities).toEqual([k[0], k[0]])
        expect(r.lookedIn).toContain("SOPS_AGE_SSH_PRIVATE_KEY_CMD (1 key)")
        expect(r.lookedIn).toContain("SOPS_AGE_KEY_CMD (1 key)")
    })

    it("turns broken sources into warnings and keeps going, never quoting key material", async () => {
        const f = fake(
            {
                SOPS_AGE_SSH_PRIVATE_KEY_FILE: "/missing/key",
                SOPS_AGE_KEY: "AGE-SECRET-KEY-1NOTREALLYAKEY",
                SOPS_AGE_KEY_FILE: "/k.txt",
                SOPS_AGE_KEY_CMD: "op read secret-ref",
            },
            {
                runKeyCommand: async () => {
                    throw new SecretsError(1, "key command \"op\" exited with status 1")
                },
            },
        )
        f.files.set("/k.txt", `${k[0]}\nnot-a-key-line\n`)
        f.files.set(`${HOME}/.ssh/id_ed25519`, "-----BEGIN OPENSSH PRIVATE KEY-----\nNOTREALLY\n-----END OPENSSH PRIVATE KEY-----\n")
        f.files.set(`${HOME}/.config/sops/age/keys.txt`, `${k[1]}\n`)
        const r = await collectIdentities(f.ctx)
        expect(r.identities).toEqual([k[1]])
        expect(r.lookedIn).toEqual([
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE=/missing/key (not found)",
            "SOPS_AGE_SSH_PRIVATE_KEY_CMD (not set)",
            "/home/u/.ssh/id_ed25519 (invalid)",
            "/home/u/.ssh/id_rsa (not found)",
            "SOPS_AGE_KEY (invalid)",
            "SOPS_AGE_KEY_FILE=/k.txt (invalid)",
            "SOPS_AGE_KEY_CMD (failed)",
            "/home/u/.config/sops/age/keys.txt (1 key)",
        ])
        expect(r.warnings).toEqual([
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE names \"/missing/key\", which does not exist",
            "malformed ssh private key /home/u/.ssh/id_ed25519: invalid base64",
            "malformed age identity at SOPS_AGE_KEY line 1",
            "unknown identity type at /k.txt line 2",
            "SOPS_AGE_KEY_CMD: key command \"op\" exited with status 1",
        ])
        expect(r.warnings.join("\n")).not.toContain("NOTREALLY")
        expect(r.warnings.join("\n")).not.toContain("not-a-key-line")
        expect(r.warnings.join("\n")).not.toContain(k[0]!)
    })

    it("a passphrase-protected ~/.ssh key costs nothing until a file is for it, then asks once", async () => {
        const prompts: string[] = []
        const f = fake({}, { promptPassphrase: async (source) => (prompts.push(source), "pw") })
        f.files.set(`${HOME}/.ssh/id_ed25519`, ed25519Locked)
        const r = await collectIdentities(f.ctx)
        expect(r.lookedIn).toContain("/home/u/.ssh/id_ed25519 (ssh-ed25519 key, passphrase-protected)")
        expect(r.warnings).toEqual([])
        expect(prompts).toEqual([])
        expect(await unwrapDataKey(await wrapDataKey(sshPub, new Uint8Array(32).fill(1)), r.identities)).toBeNull()
        expect(prompts).toEqual([])
        const dataKey = new Uint8Array(32).fill(7)
        expect(await unwrapDataKey(await wrapDataKey(ed25519LockedPub, dataKey), r.identities)).toEqual(dataKey)
        expect(prompts).toEqual(["/home/u/.ssh/id_ed25519"])
        expect(r.deferred).toEqual([])
    })

    it("without a terminal, a locked key a file needed is explained in deferred, for the exit-128 error", async () => {
        const f = fake({})
        f.files.set(`${HOME}/.ssh/id_ed25519`, ed25519Locked)
        const r = await collectIdentities(f.ctx)
        expect(await unwrapDataKey(await wrapDataKey(ed25519LockedPub, new Uint8Array(32)), r.identities)).toBeNull()
        expect(r.deferred).toEqual(["/home/u/.ssh/id_ed25519 is protected by a passphrase and there is no terminal to ask for it; run the command in a terminal"])
    })

    it("reads the .pub beside a passphrase-protected PEM key, and says so when it is missing", async () => {
        const f = fake({ SOPS_AGE_SSH_PRIVATE_KEY_FILE: "/keys/old" })
        f.files.set("/keys/old", pemLocked)
        const missing = await collectIdentities(f.ctx)
        expect(missing.lookedIn[0]).toBe("SOPS_AGE_SSH_PRIVATE_KEY_FILE=/keys/old (invalid)")
        expect(missing.warnings).toEqual(["/keys/old is a passphrase-protected PEM key and /keys/old.pub, its public half, is not beside it"])
        f.files.set("/keys/old.pub", pemLockedPub)
        const found = await collectIdentities(f.ctx)
        expect(found.lookedIn[0]).toBe("SOPS_AGE_SSH_PRIVATE_KEY_FILE=/keys/old (ssh-rsa key, passphrase-protected)")
        expect(await labels(found.identities)).toEqual(["ssh-rsa"])
    })

    it("reports an unreadable file by its error code", async () => {
        const f = fake({}, {
            readFile: async () => {
                throw Object.assign(new Error("EACCES: permission denied, open '/home/u/.ssh/id_rsa'"), { code: "EACCES" })
            },
        })
        f.files.set(`${HOME}/.ssh/id_rsa`, "")
        const r = await collectIdentities(f.ctx)
        expect(r.lookedIn[3]).toBe("/home/u/.ssh/id_rsa (unreadable)")
        expect(r.warnings).toEqual(["could not read \"/home/u/.ssh/id_rsa\": EACCES"])
    })

    it("an empty key file or variable has no keys", async () => {
        const f = fake({ SOPS_AGE_KEY: "", SOPS_AGE_KEY_FILE: "/empty.txt", SOPS_AGE_KEY_CMD: "" })
        f.files.set("/empty.txt", "# nothing here\n")
        const r = await collectIdentities(f.ctx)
        expect(r.lookedIn.slice(4, 7)).toEqual(["SOPS_AGE_KEY (no keys)", "SOPS_AGE_KEY_FILE=/empty.txt (no keys)", "SOPS_AGE_KEY_CMD (empty)"])
        expect(f.commands).toEqual([])
    })

    describe("passphrase-protected identity files", () => {
        it("are skipped with a warning when there is no terminal", async () => {
            const f = fake({ SOPS_AGE_KEY_FILE: "/locked.age" })
            f.files.set("/locked.age", await passphraseFile(`${k[0]}\n`, "correct horse"))
            f.files.set(`${HOME}/.config/sops/age/keys.txt`, `${k[1]}\n`)
            const r = await collectIdentities(f.ctx)
            expect(r.identities).toEqual([k[1]])
            expect(r.lookedIn[5]).toBe("SOPS_AGE_KEY_FILE=/locked.age (passphrase-protected, skipped)")
            expect(r.warnings).toEqual(["/locked.age is protected by a passphrase and there is no terminal to ask for it; run the command in a terminal"])
        })

        it("are opened with the passphrase when a prompt is available (armored and binary)", async () => {
            const prompts: string[] = []
            const armored = await passphraseFile(`# mine\n${k[0]}\n${k[1]}\n`, "correct horse")
            const f = fake(
                { SOPS_AGE_KEY_FILE: "/locked.age", SOPS_AGE_KEY: armored },
                {
                    promptPassphrase: async (source) => {
                        prompts.push(source)
                        return "correct horse"
                    },
                },
            )
            const e = new Encrypter()
            e.setPassphrase("correct horse")
            e.setScryptWorkFactor(10)
            f.files.set("/locked.age", await e.encrypt(`${k[2]}\n`))
            const r = await collectIdentities(f.ctx)
            expect(r.identities).toEqual([k[0], k[1], k[2]])
            expect(prompts).toEqual(["SOPS_AGE_KEY", "/locked.age"])
            expect(r.lookedIn[4]).toBe("SOPS_AGE_KEY (2 keys)")
            expect(r.lookedIn[5]).toBe("SOPS_AGE_KEY_FILE=/locked.age (1 key)")
            expect(r.warnings).toEqual([])
        })

        it("a wrong passphrase is a warning, not a crash", async () => {
            const f = fake({ SOPS_AGE_KEY_FILE: "/locked.age" }, { promptPassphrase: async () => "wrong" })
            f.files.set("/locked.age", await passphraseFile(`${k[0]}\n`, "correct horse"))
            const r = await collectIdentities(f.ctx)
            expect(r.identities).toEqual([])
            expect(r.lookedIn[5]).toBe("SOPS_AGE_KEY_FILE=/locked.age (could not be decrypted)")
            expect(r.warnings).toEqual(["/locked.age: incorrect passphrase, or the file is not passphrase-encrypted"])
        })
    })

    it("uses Windows paths on win32", async () => {
        const f = fake({ AppData: "C:\\Users\\u\\AppData\\Roaming" }, { homedir: "C:\\Users\\u", platform: "win32" })
        const r = await collectIdentities(f.ctx)
        expect(r.lookedIn).toContain("C:\\Users\\u\\.ssh\\id_ed25519 (not found)")
        expect(r.lookedIn.at(-1)).toBe("C:\\Users\\u\\AppData\\Roaming\\sops\\age\\keys.txt (not found)")
    })
})

describe("defaultKeyFile", () => {
    it.each([
        ["linux", { XDG_CONFIG_HOME: "/xdg" }, "/home/u", { path: "/xdg/sops/age/keys.txt" }],
        ["linux", {}, "/home/u", { path: "/home/u/.config/sops/age/keys.txt" }],
        ["linux", { XDG_CONFIG_HOME: "" }, "/home/u", { path: "/home/u/.config/sops/age/keys.txt" }],
        ["linux", { XDG_CONFIG_HOME: "rel/dir" }, "/home/u", { problem: "$XDG_CONFIG_HOME is not an absolute path" }],
        ["freebsd", {}, "/home/u", { path: "/home/u/.config/sops/age/keys.txt" }],
        ["linux", {}, "", { problem: "home directory unknown" }],
        ["darwin", {}, "/Users/u", { path: "/Users/u/Library/Application Support/sops/age/keys.txt" }],
        // sops's macOS special case: XDG_CONFIG_HOME wins when set.
        ["darwin", { XDG_CONFIG_HOME: "/Users/u/.config" }, "/Users/u", { path: "/Users/u/.config/sops/age/keys.txt" }],
        ["win32", { AppData: "C:\\Users\\u\\AppData\\Roaming" }, "C:\\Users\\u", { path: "C:\\Users\\u\\AppData\\Roaming\\sops\\age\\keys.txt" }],
        ["win32", { APPDATA: "D:\\Roaming" }, "C:\\Users\\u", { path: "D:\\Roaming\\sops\\age\\keys.txt" }],
        ["win32", {}, "C:\\Users\\u", { problem: "%AppData% is not set" }],
    ] as const)("%s %j home %j", (platform, env, home, expected) => {
        expect(defaultKeyFile(env, home, platform)).toEqual(expected)
    })
})

describe("explainNoIdentity", () => {
    it("keeps the engine's message and class (exit 128), then adds why a key stayed locked, every place looked in, and the advice", async () => {
        const f = fake({ SOPS_AGE_KEY_FILE: "/gone.txt" })
        f.files.set(`${HOME}/.ssh/id_ed25519`, ed25519Locked)
        const found = await collectIdentities(f.ctx)
        expect(await unwrapDataKey(await wrapDataKey(ed25519LockedPub, new Uint8Array(32)), found.identities)).toBeNull()
        const engine = new NoIdentityError("could not recover the data key", ["the file is encrypted to: ssh-ed25519 AAAA…"])
        const e = explainNoIdentity(engine, found, "set SOPS_AGE_KEY_FILE to your key file")
        expect(e).toBeInstanceOf(NoIdentityError)
        expect(e.code).toBe(128)
        expect(e.message).toBe("could not recover the data key")
        expect(e.hints).toEqual([
            "the file is encrypted to: ssh-ed25519 AAAA…",
            "/home/u/.ssh/id_ed25519 is protected by a passphrase and there is no terminal to ask for it; run the command in a terminal",
            "looked for identities in: SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set); SOPS_AGE_SSH_PRIVATE_KEY_CMD (not set); " +
                "/home/u/.ssh/id_ed25519 (ssh-ed25519 key, passphrase-protected); /home/u/.ssh/id_rsa (not found); SOPS_AGE_KEY (not set); " +
                "SOPS_AGE_KEY_FILE=/gone.txt (not found); SOPS_AGE_KEY_CMD (not set); /home/u/.config/sops/age/keys.txt (not found)",
            "set SOPS_AGE_KEY_FILE to your key file",
        ])
    })
})
