/**
 * rotate, updatekeys and groups through the built binary with real age keys
 * (Debian age-keygen / age): who can decrypt afterwards, which bytes of the file
 * change, and the refusals with the file left untouched.
 */
import { spawn } from "node:child_process"
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { BIN, runCli } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

const SECRET = "p4ssw0rd-never-printed"
const PLAIN = `db:\n    user: admin\n    password: ${SECRET}\nport: 5432\ntags:\n    - a\n    - b\n`
const NIX = join(import.meta.dirname, "../fixtures/interop/sops-nix")

interface Sops {
    age?: { recipient: string; enc: string }[]
    key_groups?: { age: { recipient: string; enc: string }[] }[]
    mac: string
    lastmodified: string
    version: string
    shamir_threshold?: number
}

function sopsOf(path: string): Sops {
    return (parse(readFileSync(path, "utf8")) as { sops: Sops }).sops
}

function encs(text: string): string[] {
    return text.match(/ENC\[AES256_GCM,[^\]]*\]/g) ?? []
}

/** The data key as Debian's age sees it: decrypt the recipient's block with its key file. */
function dataKeyWithAge(dir: string, file: string, key: { file: string; recipient: string }): string {
    const block = sopsOf(file).age?.find((a) => a.recipient === key.recipient)
    if (block === undefined) throw new Error("recipient not in file")
    writeFileSync(join(dir, "block.age"), block.enc)
    return run("age", ["-d", "-i", key.file, join(dir, "block.age")]).toString("hex")
}

/** The file without its `age:` list: what must not change when only recipients do. */
function withoutAgeBlocks(text: string): string {
    return text.replace(/^ {4}age:\n(?: {8}.*\n)*/m, "")
}

/** `by`: the encrypting user's key file (so that encrypt has no "you will not be able to decrypt" warning). */
async function encrypted(by: string, recipients: string[], name = "x.yaml") {
    const dir = tempDir()
    const f = join(dir, name)
    writeFileSync(f, PLAIN)
    const r = await runCli(["encrypt", "--age", recipients.join(","), "-i", name], { cwd: dir, env: { SOPS_AGE_KEY_FILE: by } })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    return { dir, f }
}

function keys() {
    const dir = tempDir()
    return { alice: ageKeygen(dir, "alice"), bob: ageKeygen(dir, "bob"), carol: ageKeygen(dir, "carol") }
}

describe("rotate", () => {
    it("-i gives a new data key (checked with Debian age) and new ciphertext for every value; the file still decrypts", async () => {
        const { alice, bob } = keys()
        const { dir, f } = await encrypted(alice.file, [alice.recipient, bob.recipient])
        // version is outside the MAC; rotate must keep it (sops does not bump it).
        writeFileSync(f, readFileSync(f, "utf8").replace("version: 3.13.2", "version: 3.9.0"))
        const before = readFileSync(f, "utf8")
        const key1 = dataKeyWithAge(dir, f, alice)
        expect(dataKeyWithAge(dir, f, bob)).toBe(key1)

        // A pinned clock: the encrypt above may have run within the same second.
        const r = await runCli(["rotate", "-i", "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file, SECRETS_NOW: "2031-02-03T04:05:06Z" } })
        expect(r.code).toBe(0)
        expect(r.stdout).toBe("")
        const after = readFileSync(f, "utf8")
        const key2 = dataKeyWithAge(dir, f, alice)
        expect(key2).toHaveLength(64)
        expect(key2).not.toBe(key1)
        expect(dataKeyWithAge(dir, f, bob)).toBe(key2)
        expect(encs(after)).toHaveLength(encs(before).length)
        for (const e of encs(after)) expect(before).not.toContain(e)
        expect(sopsOf(f).version).toBe("3.9.0")
        expect(sopsOf(f).lastmodified).toBe("2031-02-03T04:05:06Z")
        expect(after).not.toContain(SECRET)

        for (const k of [alice, bob]) {
            const dec = await runCli(["decrypt", "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: k.file } })
            expect(dec.code).toBe(0)
            expect(dec.stdout).toBe(PLAIN)
        }
    })

    it("without -i prints the rotated file and leaves the file alone", async () => {
        const { alice } = keys()
        const { dir, f } = await encrypted(alice.file, [alice.recipient])
        const before = readFileSync(f)
        const r = await runCli(["rotate", "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(r.code).toBe(0)
        expect(readFileSync(f)).toEqual(before)
        expect(r.stdout).toMatch(/^db:\n {4}user: ENC\[AES256_GCM,/)
        expect(r.stdout).not.toContain(SECRET)
        for (const e of encs(r.stdout)) expect(before.toString()).not.toContain(e)
    })

    it("--rm-age locks the removed key out (exit 128) while the other still decrypts; --add-age lets a new one in", async () => {
        const { alice, bob, carol } = keys()
        const { dir, f } = await encrypted(alice.file, [alice.recipient, bob.recipient])
        const rm = await runCli(["rotate", "-i", "--rm-age", bob.recipient, "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(rm.code).toBe(0)
        expect(rm.stderr).toBe(`secrets: "x.yaml": removed ${bob.recipient} from key group 0\n`)
        expect(sopsOf(f).age?.map((a) => a.recipient)).toEqual([alice.recipient])
        const locked = await runCli(["decrypt", "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: bob.file } })
        expect(locked.code).toBe(128)
        expect(locked.stderr).toContain(alice.recipient)
        expect((await runCli(["decrypt", "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })).stdout).toBe(PLAIN)

        const add = await runCli(["rotate", "-i", "--add-age", carol.recipient, "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(add.code).toBe(0)
        expect(sopsOf(f).age?.map((a) => a.recipient)).toEqual([alice.recipient, carol.recipient])
        const dec = await runCli(["decrypt", "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: carol.file } })
        expect(dec.code).toBe(0)
        expect(dec.stdout).toBe(PLAIN)
    })

    it("refuses to remove the last recipient, and --add-age/--rm-age on a missing file exits 49", async () => {
        const { alice } = keys()
        const { dir, f } = await encrypted(alice.file, [alice.recipient])
        const before = readFileSync(f)
        const last = await runCli(["rotate", "-i", "--rm-age", alice.recipient, "x.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(last.code).toBe(1)
        expect(last.stderr).toContain(`secrets: error: "x.yaml": no recipient would be left to decrypt the file\n`)
        expect(readFileSync(f)).toEqual(before)

        const missing = await runCli(["rotate", "--add-age", alice.recipient, "nope.yaml"], { cwd: dir })
        expect(missing.code).toBe(49)
        expect(missing.stderr).toContain(`secrets: error: "nope.yaml" does not exist: there are no keys to change\n`)
        expect((await runCli(["rotate", "--rm-age", alice.recipient, "nope.yaml"], { cwd: dir })).code).toBe(49)
        expect((await runCli(["rotate", "nope.yaml"], { cwd: dir })).code).toBe(100)
        expect((await runCli(["rotate", "-i", "--output", "o.yaml", "x.yaml"], { cwd: dir })).code).toBe(8)
    })

    it("refuses a file with PGP keys (sops-nix vector) and leaves it byte for byte", async () => {
        const dir = tempDir()
        copyFileSync(join(NIX, "HEAD/secrets.yaml"), join(dir, "secrets.yaml"))
        copyFileSync(join(NIX, "keys.txt"), join(dir, "keys.txt"))
        const before = readFileSync(join(dir, "secrets.yaml"))
        const env = { SOPS_AGE_KEY_FILE: join(dir, "keys.txt") }
        // The key works: the refusal is about the PGP keys, not about access.
        expect((await runCli(["decrypt", "secrets.yaml"], { cwd: dir, env })).code).toBe(0)
        const r = await runCli(["rotate", "-i", "secrets.yaml"], { cwd: dir, env })
        expect(r.code).toBe(1)
        expect(r.stderr).toBe(
            `secrets: error: "secrets.yaml": cannot rotate the data key: the file also has pgp keys, which secrets cannot encrypt to\n` +
                "secrets: hint: a new data key would lock out the pgp keys; rotate with sops, or remove the pgp keys with sops first\n",
        )
        expect(readFileSync(join(dir, "secrets.yaml"))).toEqual(before)
    })
})

describe("updatekeys", () => {
    function project(recipients: string[]) {
        const dir = tempDir()
        mkdirSync(join(dir, "secrets"))
        writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${recipients.join(",")}\n`)
        return dir
    }

    async function encryptIn(dir: string, name: string) {
        writeFileSync(join(dir, name), PLAIN)
        const r = await runCli(["encrypt", "-i", name], { cwd: dir })
        expect(r.code).toBe(0)
    }

    it("after a recipient is added: --dry-run prints and writes nothing, no TTY without -y refuses, -y re-wraps only", async () => {
        const { alice, bob } = keys()
        const dir = project([alice.recipient])
        await encryptIn(dir, "secrets/a.yaml")
        const f = join(dir, "secrets/a.yaml")
        const before = readFileSync(f, "utf8")
        const mtime = statSync(f).mtimeMs
        writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${alice.recipient},${bob.recipient}\n`)

        const dry = await runCli(["updatekeys", "--dry-run", "secrets/a.yaml"], { cwd: dir })
        expect(dry.code).toBe(0)
        const pad = " ".repeat(bob.recipient.length - "ADDED".length)
        expect(dry.stdout).toBe(`FILE            GROUP  ADDED${pad}  REMOVED\nsecrets/a.yaml  0      ${bob.recipient}\n`)
        expect(dry.stderr).toBe("secrets: dry run: 1 file would change, nothing written\n")
        expect(readFileSync(f, "utf8")).toBe(before)

        const ask = await runCli(["updatekeys", "secrets/a.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(ask.code).toBe(1)
        expect(ask.stderr).toContain("secrets: hint: pass -y (--yes) to apply them without a terminal")
        expect(readFileSync(f, "utf8")).toBe(before)
        expect(statSync(f).mtimeMs).toBe(mtime)

        const yes = await runCli(["updatekeys", "-y", "secrets/a.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(yes.code).toBe(0)
        expect(yes.stderr).toBe(`secrets: "secrets/a.yaml": updated\n`)
        const after = readFileSync(f, "utf8")
        // Values, mac, lastmodified and everything else identical; alice's block kept verbatim.
        expect(withoutAgeBlocks(after)).toBe(withoutAgeBlocks(before))
        expect(encs(after)).toEqual(encs(before))
        const [b, a] = [sopsOf(f), parse(before) as { sops: Sops }]
        expect(b.age?.[0]).toEqual(a.sops.age?.[0])
        expect(b.age?.map((x) => x.recipient)).toEqual([alice.recipient, bob.recipient])
        expect(dataKeyWithAge(dir, f, bob)).toBe(dataKeyWithAge(dir, f, alice))
        const dec = await runCli(["decrypt", "secrets/a.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: bob.file } })
        expect(dec.code).toBe(0)
        expect(dec.stdout).toBe(PLAIN)
    })

    /** Run updatekeys on a real terminal (util-linux `script` gives it a pty) and answer the question. */
    function onTerminal(dir: string, args: string[], env: Record<string, string>, answer: string): Promise<{ code: number; out: string }> {
        return new Promise((resolve, reject) => {
            const cmd = [process.execPath, BIN, ...args].join(" ")
            const child = spawn("script", ["-qec", cmd, "/dev/null"], {
                cwd: dir,
                env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, XDG_CONFIG_HOME: join(dir, ".config"), TERM: "dumb", ...env },
            })
            let out = ""
            let answered = false
            child.stdout.on("data", (d: Buffer) => {
                out += d.toString()
                // Answer only once the prompt is up, so the keys reach inquirer, not the line buffer.
                if (!answered && out.includes("apply these changes?")) {
                    answered = true
                    child.stdin.write(answer)
                }
            })
            child.on("error", reject)
            child.on("close", (code) => resolve({ code: code ?? -1, out }))
        })
    }

    it("on a terminal it asks: n leaves the file, y applies", async () => {
        const { alice, bob } = keys()
        const dir = project([alice.recipient])
        await encryptIn(dir, "secrets/a.yaml")
        const f = join(dir, "secrets/a.yaml")
        const before = readFileSync(f, "utf8")
        writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${alice.recipient},${bob.recipient}\n`)
        const env = { SOPS_AGE_KEY_FILE: alice.file }

        const no = await onTerminal(dir, ["updatekeys", "secrets/a.yaml"], env, "n\r")
        expect(no.code).toBe(0)
        expect(no.out).toContain("secrets: nothing written")
        expect(readFileSync(f, "utf8")).toBe(before)

        const yes = await onTerminal(dir, ["updatekeys", "secrets/a.yaml"], env, "y\r")
        expect(yes.code).toBe(0)
        expect(yes.out).toContain(`secrets: "secrets/a.yaml": updated`)
        expect(sopsOf(f).age?.map((x) => x.recipient)).toEqual([alice.recipient, bob.recipient])
    })

    it("leaves an up-to-date file untouched (bytes and mtime)", async () => {
        const { alice } = keys()
        const dir = project([alice.recipient])
        await encryptIn(dir, "secrets/a.yaml")
        const f = join(dir, "secrets/a.yaml")
        const before = readFileSync(f)
        const mtime = statSync(f).mtimeMs
        await new Promise((r) => setTimeout(r, 20))
        const r = await runCli(["updatekeys", "-y", "secrets/a.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })
        expect(r.code).toBe(0)
        expect(r.stdout).toBe("")
        expect(r.stderr).toBe(`secrets: "secrets/a.yaml": up to date\n`)
        expect(readFileSync(f)).toEqual(before)
        expect(statSync(f).mtimeMs).toBe(mtime)
    })

    it("several files, one failing: the others are updated and the exit code is non-zero", async () => {
        const { alice, bob } = keys()
        const dir = project([alice.recipient])
        await encryptIn(dir, "secrets/a.yaml")
        await encryptIn(dir, "secrets/c.yaml")
        writeFileSync(join(dir, "secrets/b.yaml"), "plain: text\n")
        writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${bob.recipient}\n`)
        const r = await runCli(["updatekeys", "-y", "secrets/a.yaml", "secrets/b.yaml", "secrets/c.yaml"], {
            cwd: dir,
            env: { SOPS_AGE_KEY_FILE: alice.file },
        })
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(/^secrets: error: "secrets\/b\.yaml": /m)
        expect(r.stderr).toContain(`secrets: "secrets/a.yaml": updated\n`)
        expect(r.stderr).toContain(`secrets: "secrets/c.yaml": updated\n`)
        expect(r.stderr).toContain("secrets: error: 1 of 3 files could not be updated\n")
        expect(r.stdout).toContain(`secrets/a.yaml  0      ${bob.recipient}  ${alice.recipient}\n`)
        for (const name of ["a", "c"]) {
            const f = join(dir, `secrets/${name}.yaml`)
            expect(sopsOf(f).age?.map((x) => x.recipient)).toEqual([bob.recipient])
            const dec = await runCli(["decrypt", `secrets/${name}.yaml`], { cwd: dir, env: { SOPS_AGE_KEY_FILE: bob.file } })
            expect(dec.stdout).toBe(PLAIN)
            expect((await runCli(["decrypt", `secrets/${name}.yaml`], { cwd: dir, env: { SOPS_AGE_KEY_FILE: alice.file } })).code).toBe(128)
        }
        expect(readFileSync(join(dir, "secrets/b.yaml"), "utf8")).toBe("plain: text\n")
        expect(r.stderr).not.toContain(SECRET)
    })

    it("without the data key it exits 128 and writes nothing", async () => {
        const { alice, bob } = keys()
        const dir = project([alice.recipient])
        await encryptIn(dir, "secrets/a.yaml")
        const before = readFileSync(join(dir, "secrets/a.yaml"))
        writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${bob.recipient}\n`)
        const r = await runCli(["updatekeys", "-y", "secrets/a.yaml"], { cwd: dir, env: { SOPS_AGE_KEY_FILE: bob.file } })
        expect(r.code).toBe(128)
        expect(readFileSync(join(dir, "secrets/a.yaml"))).toEqual(before)
    })
})

describe("groups", () => {
    // About 25 runs of the binary: give it room on a slow CI machine.
    it("add/delete round trip to 2-of-3 Shamir and back; values, mac and lastmodified never change", { timeout: 120_000 }, async () => {
        const { alice, bob, carol } = keys()
        const { dir, f } = await encrypted(alice.file, [alice.recipient])
        const original = readFileSync(f, "utf8")
        const both = (...ks: { text: string }[]) => ({ SOPS_AGE_KEY: ks.map((k) => k.text).join("\n") })
        const decrypts = async (...ks: { text: string }[]) => {
            const r = await runCli(["decrypt", "x.yaml"], { cwd: dir, env: both(...ks) })
            return r.code === 0 ? r.stdout : r.code
        }

        // Without -i: printed, file untouched.
        const printed = await runCli(["groups", "add", "--file", "x.yaml", "--age", bob.recipient], { cwd: dir, env: both(alice) })
        expect(printed.code).toBe(0)
        expect(printed.stdout).toContain("key_groups:")
        expect(readFileSync(f, "utf8")).toBe(original)

        expect((await runCli(["groups", "add", "-f", "x.yaml", "--age", bob.recipient, "-i"], { cwd: dir, env: both(alice) })).code).toBe(0)
        expect(sopsOf(f).shamir_threshold).toBe(2)
        const add3 = await runCli(["groups", "add", "-f", "x.yaml", "--age", carol.recipient, "--shamir-secret-sharing-threshold", "2", "-i"], {
            cwd: dir,
            env: both(alice, bob),
        })
        expect(add3.code).toBe(0)
        const s = sopsOf(f)
        expect(s.key_groups?.map((g) => g.age.map((a) => a.recipient))).toEqual([[alice.recipient], [bob.recipient], [carol.recipient]])
        expect(s.shamir_threshold).toBe(2)
        expect(encs(readFileSync(f, "utf8"))).toEqual(encs(original))
        expect(s.lastmodified).toBe((parse(original) as { sops: Sops }).sops.lastmodified)
        expect(s.mac).toBe((parse(original) as { sops: Sops }).sops.mac)

        for (const two of [[alice, bob], [alice, carol], [bob, carol]]) expect(await decrypts(...two)).toBe(PLAIN)
        for (const one of [alice, bob, carol]) expect(await decrypts(one)).toBe(128)

        expect((await runCli(["groups", "delete", "-f", "x.yaml", "-i", "2"], { cwd: dir, env: both(bob, carol) })).code).toBe(0)
        expect(sopsOf(f).key_groups?.map((g) => g.age.map((a) => a.recipient))).toEqual([[alice.recipient], [bob.recipient]])
        expect(await decrypts(alice, bob)).toBe(PLAIN)
        expect(await decrypts(alice, carol)).toBe(128)

        const before = readFileSync(f)
        const tooFew = await runCli(["groups", "delete", "-f", "x.yaml", "-i", "1"], { cwd: dir, env: both(alice, bob) })
        expect(tooFew.code).toBe(1)
        expect(tooFew.stderr).toContain("deleting key group 1 would leave 1 group, fewer than the Shamir threshold 2")
        expect(readFileSync(f)).toEqual(before)
        expect((await runCli(["groups", "delete", "-f", "x.yaml", "-i", "5"], { cwd: dir, env: both(alice, bob) })).stderr).toContain(
            "there is no key group 5: the file has 2 (0 to 1)",
        )

        const last = await runCli(["groups", "delete", "-f", "x.yaml", "--shamir-secret-sharing-threshold", "1", "-i", "1"], { cwd: dir, env: both(alice, bob) })
        expect(last.code).toBe(0)
        expect(sopsOf(f).age?.map((a) => a.recipient)).toEqual([alice.recipient])
        expect(await decrypts(alice)).toBe(PLAIN)
        expect(dataKeyWithAge(dir, f, alice)).toHaveLength(64)
    })

    it("refuses a file with PGP keys, file unchanged", async () => {
        const { bob } = keys()
        const dir = tempDir()
        copyFileSync(join(NIX, "HEAD/secrets.yaml"), join(dir, "secrets.yaml"))
        const before = readFileSync(join(dir, "secrets.yaml"))
        const r = await runCli(["groups", "add", "-f", "secrets.yaml", "--age", bob.recipient, "-i"], {
            cwd: dir,
            env: { SOPS_AGE_KEY_FILE: join(NIX, "keys.txt") },
        })
        expect(r.code).toBe(1)
        expect(r.stderr).toContain("the file also has pgp keys that secrets cannot encrypt to")
        expect(readFileSync(join(dir, "secrets.yaml"))).toEqual(before)
    })
})
