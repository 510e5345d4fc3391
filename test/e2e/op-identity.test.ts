/**
 * The age identity in 1Password (issue 5 §4), through the built binary and the
 * stand-in `op`: decrypting with the identity only in a vault (no key file, a clean
 * HOME) from the flag, SECRETS_AGE_KEY_OP and the config; op failures as exit 128
 * with the reference and op's hint in the looked-in list; `keys generate --store`.
 * The stand-in logs every argv: no identity may appear there.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli, type CliResult } from "../helpers/cli.js"
import { item, makeOpStandin, seedStore, type OpStandin, type StandinStore } from "../helpers/op-standin.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SLOW = { timeout: 120_000 }
const PLAIN = "db:\n    password: hunter2-plain\n"
const REF = "op://Dev/age/identity"
const SIGN_IN_HINT = "run `eval $(op signin)`, unlock the desktop app, or set OP_SERVICE_ACCOUNT_TOKEN for CI"

/**
 * A repo dir with `s.yaml` encrypted to a fresh key whose identity lives only in the
 * stand-in's vault "Dev", item "age", field "identity" (the key file is deleted).
 */
async function setup(store: StandinStore = seedStore()) {
    const dir = tempDir()
    const home = join(dir, "home")
    mkdirSync(home)
    const repo = join(dir, "repo")
    mkdirSync(repo)
    const key = ageKeygen(dir, "key")
    rmSync(key.file)
    writeFileSync(join(repo, "s.yaml"), PLAIN)
    const enc = await runCli(["encrypt", "--age", key.recipient, "-i", "s.yaml"], { cwd: repo, home })
    expect(enc.code).toBe(0)
    store.vaults[0]!.items.push(item({ title: "age", category: "API_CREDENTIAL", fields: [{ label: "identity", value: key.text, type: "CONCEALED" }] }))
    const op = await makeOpStandin(dir, store)
    const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: repo, home, env: { ...op.env, ...env } })
    return { dir, repo, home, key, op, cli, encrypted: readFileSync(join(repo, "s.yaml")) }
}

/** No identity text in any op argv, and no identity or plaintext on stderr. */
async function noLeak(op: OpStandin, r: CliResult, ...secrets: string[]) {
    const log = await op.readLog()
    for (const s of secrets) {
        for (const call of log) expect(call.argv.join(" ")).not.toContain(s)
        expect(r.stderr).not.toContain(s)
    }
    expect(r.stderr).not.toContain("hunter2")
}

const identityOf = (text: string) => text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-")) ?? "missing"

describe("decrypt with the identity in 1Password", () => {
    it("via SECRETS_AGE_KEY_OP, with exactly one op read", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["decrypt", "s.yaml"], { SECRETS_AGE_KEY_OP: REF })
        expect(r.stderr).toBe("")
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(PLAIN)
        const log = await s.op.readLog()
        expect(log.map((c) => c.argv.filter((a) => !a.startsWith("-")))).toEqual([["read", REF]])
        expect(log[0]?.stdinBytes).toBe(0)
        await noLeak(s.op, r, identityOf(s.key.text))
    })

    it("via --age-key-op, also when the env names the same reference (read once)", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["decrypt", "--age-key-op", REF, "s.yaml"], { SECRETS_AGE_KEY_OP: REF })
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(PLAIN)
        expect((await s.op.readLog()).length).toBe(1)
    })

    it("via secrets.age_key_op in .sops.yaml, and exec-env sees the value", SLOW, async () => {
        const s = await setup()
        writeFileSync(join(s.repo, ".sops.yaml"), `creation_rules:\n  - age: ${s.key.recipient}\nsecrets:\n  age_key_op: ${REF}\n`)
        const r = await s.cli(["decrypt", "s.yaml"])
        expect(r.code).toBe(0)
        expect(r.stdout).toBe(PLAIN)
        const x = await s.cli(["exec-file", "s.yaml", "grep -c hunter2-plain {}"])
        expect(x.stdout.trim()).toBe("1")
    })

    it("a repo's secrets.age_key_op is not read when a local identity opens the file (issue 10 §9)", SLOW, async () => {
        const s = await setup()
        // The user has their own key; the repo names a reference that would prompt or
        // spend a service account's quota on every decrypt.
        const mine = ageKeygen(s.dir, "mine")
        const two = await s.cli(["rotate", "-i", "--add-age", mine.recipient, "s.yaml"], { SECRETS_AGE_KEY_OP: REF })
        expect(two.code, two.stderr).toBe(0)
        await writeFile(s.op.logPath, "")
        writeFileSync(join(s.repo, ".sops.yaml"), `creation_rules:\n  - age: ${s.key.recipient}\nsecrets:\n  age_key_op: ${REF}\n`)
        for (const args of [["decrypt", "s.yaml"], ["set", "s.yaml", '["db"]["user"]', '"app"'], ["updatekeys", "-y", "s.yaml"]]) {
            const r = await s.cli(args, { SOPS_AGE_KEY_FILE: mine.file })
            expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0)
        }
        expect(await s.op.readLog()).toEqual([])
        // Without the local key, the repo's reference is the way in, and is read once.
        const r = await s.cli(["decrypt", "--extract", '["db"]["user"]', "s.yaml"])
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toBe("app")
        expect((await s.op.readLog()).map((c) => c.argv.filter((a) => !a.startsWith("-")))).toEqual([["read", REF]])
    })

    it("set and decrypt with the flag keep working on the same file", SLOW, async () => {
        const s = await setup()
        const set = await s.cli(["set", "--age-key-op", REF, "s.yaml", '["db"]["user"]', '"app"'])
        expect(set.code).toBe(0)
        const r = await s.cli(["decrypt", "--age-key-op", REF, "--extract", '["db"]["user"]', "s.yaml"])
        expect(r.stdout).toBe("app")
    })

    it("signed out: exit 128, the reference and op's sign-in hint in the looked-in list, nothing written", SLOW, async () => {
        const s = await setup(seedStore({ auth: { mode: "none" } }))
        const r = await s.cli(["set", "s.yaml", '["db"]["user"]', '"app"'], { SECRETS_AGE_KEY_OP: REF })
        expect(r.code).toBe(128)
        expect(r.stderr).toContain(`secrets: warning: SECRETS_AGE_KEY_OP=${REF}: the 1Password CLI is not signed in`)
        const looked = r.stderr.split("\n").find((l) => l.startsWith("secrets: hint: looked for identities in:")) ?? ""
        expect(looked).toContain(`SECRETS_AGE_KEY_OP=${REF} (failed: ${SIGN_IN_HINT})`)
        expect(readFileSync(join(s.repo, "s.yaml"))).toEqual(s.encrypted)
    })

    it("missing field: exit 128 naming the reference, with op's field hint", SLOW, async () => {
        const s = await setup()
        const ref = "op://Dev/age/nope"
        const r = await s.cli(["decrypt", "s.yaml"], { SECRETS_AGE_KEY_OP: ref })
        expect(r.code).toBe(128)
        expect(r.stdout).toBe("")
        expect(r.stderr).toMatch(new RegExp(`looked for identities in: .*SECRETS_AGE_KEY_OP=${ref} \\(failed: check the field label`))
    })

    it("a 429 is a clear warning and exit 128", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["decrypt", "s.yaml"], { SECRETS_AGE_KEY_OP: REF, OP_STANDIN_FAIL: "ratelimit" })
        expect(r.code).toBe(128)
        expect(r.stderr).toContain(`secrets: warning: SECRETS_AGE_KEY_OP=${REF}: 1Password rate limit reached`)
    })

    it("a hung op is stopped by SECRETS_OP_TIMEOUT and the file is untouched", SLOW, async () => {
        const s = await setup()
        // The stand-in hangs for an hour: only the timeout's kill ends this within the test's limit.
        const r = await s.cli(["set", "s.yaml", '["db"]["user"]', '"app"'], { SECRETS_AGE_KEY_OP: REF, OP_STANDIN_FAIL: "timeout", SECRETS_OP_TIMEOUT: "1000" })
        expect(r.code).toBe(128)
        expect(r.stderr).toContain(`secrets: warning: SECRETS_AGE_KEY_OP=${REF}: op read timed out after 1 s`)
        expect(r.stderr).toMatch(/looked for identities in: .*\(failed: op may be waiting for approval in the 1Password app, or for the network; raise the limit with SECRETS_OP_TIMEOUT/)
        expect(readFileSync(join(s.repo, "s.yaml"))).toEqual(s.encrypted)
    })

    it("without any setting, op is never run", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["decrypt", "s.yaml"])
        expect(r.code).toBe(128)
        expect(r.stderr).not.toContain("SECRETS_AGE_KEY_OP")
        expect(await s.op.readLog()).toEqual([])
    })
})

describe("keys generate --store", () => {
    it("saves the identity in 1Password only, prints the recipient, and that item decrypts", SLOW, async () => {
        const s = await setup()
        const r = await s.cli(["keys", "generate", "--store", "op://Dev/ci-key"])
        expect(r.code).toBe(0)
        const recipient = r.stdout.trim()
        expect(recipient).toMatch(/^age1[0-9a-z]{58}$/)
        expect(r.stderr).toContain("secrets: decrypt with it: SECRETS_AGE_KEY_OP=op://Dev/ci-key/identity\n")

        const stored = (await s.op.readStore()).vaults[0]!.items.find((i) => i.title === "ci-key")
        expect(stored?.category).toBe("API_CREDENTIAL")
        expect(stored?.tags).toContain("secrets")
        const identity = stored?.fields?.find((f) => f.label === "identity")
        expect(identity?.type).toBe("CONCEALED")
        expect(identity?.value).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/)
        expect(stored?.fields?.find((f) => f.label === "recipient")).toMatchObject({ type: "STRING", value: recipient })

        await noLeak(s.op, r, identity?.value ?? "x")
        expect(r.stdout).not.toContain("AGE-SECRET-KEY")
        expect(readdirSync(s.home)).toEqual([])
        const log = await s.op.readLog()
        expect(log.some((c) => c.argv.includes("create") && c.stdinBytes > 0)).toBe(true)

        // A file encrypted to the printed recipient opens with the stored field.
        writeFileSync(join(s.repo, "t.yaml"), "k: v\n")
        expect((await s.cli(["encrypt", "--age", recipient, "-i", "t.yaml"])).code).toBe(0)
        const d = await s.cli(["decrypt", "t.yaml"], { SECRETS_AGE_KEY_OP: "op://Dev/ci-key/identity" })
        expect(d.code).toBe(0)
        expect(d.stdout).toBe("k: v\n")
    })

    it("refuses to replace a different key without --force, replaces it with --force (other fields kept), with --pq", SLOW, async () => {
        const s = await setup()
        const seeded = await s.op.readStore()
        seeded.vaults[0]!.items[0]!.fields!.push({ id: "notekeep", type: "STRING", label: "note", value: "keep me" })
        await s.op.writeStore(seeded)
        const before = JSON.stringify(await s.op.readStore())
        const no = await s.cli(["keys", "generate", "--store", REF])
        expect(no.code).toBe(3)
        expect(no.stderr).toContain(`secrets: error: refusing to replace the key in ${REF}`)
        expect(no.stdout).toBe("")
        expect(JSON.stringify(await s.op.readStore())).toBe(before)

        const yes = await s.cli(["keys", "generate", "--pq", "--force", "--store", REF])
        expect(yes.code).toBe(0)
        expect(yes.stdout).toMatch(/^age1pq1/)
        const it2 = (await s.op.readStore()).vaults[0]!.items.find((i) => i.title === "age")
        expect(it2?.fields?.find((f) => f.label === "identity")?.value).toMatch(/^AGE-SECRET-KEY-PQ-1/)
        expect(it2?.fields?.find((f) => f.label === "recipient")?.value).toBe(yes.stdout.trim())
        expect(it2?.fields?.find((f) => f.label === "note")?.value).toBe("keep me")
        expect(it2?.tags).toEqual(["secrets"])
        expect(await s.op.argvMentions("AGE-SECRET-KEY")).toBe(false)
        writeFileSync(join(s.repo, "pq.yaml"), "k: v\n")
        expect((await s.cli(["encrypt", "--age", yes.stdout.trim(), "-i", "pq.yaml"])).code).toBe(0)
        expect((await s.cli(["decrypt", "pq.yaml"], { SECRETS_AGE_KEY_OP: REF })).stdout).toBe("k: v\n")
    })

    it("refuses --output with --store, and an unknown vault leaves nothing behind", SLOW, async () => {
        const s = await setup()
        const both = await s.cli(["keys", "generate", "--store", "op://Dev/x", "--output", "k.txt"])
        expect(both.code).toBe(8)
        expect(existsSync(join(s.repo, "k.txt"))).toBe(false)
        const bad = await s.cli(["keys", "generate", "--store", "op://Nope/x"])
        expect(bad.code).not.toBe(0)
        expect(bad.stderr).toContain("vault")
        expect(bad.stdout).toBe("")
        expect(readdirSync(s.home)).toEqual([])
    })

    it("storing the same key again (--ssh) writes nothing", SLOW, async () => {
        const s = await setup()
        const { execFileSync } = await import("node:child_process")
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(s.dir, "host")])
        const first = await s.cli(["keys", "generate", "--ssh", join(s.dir, "host"), "--store", "op://Dev/host"])
        expect(first.code).toBe(0)
        const after = JSON.stringify(await s.op.readStore())
        const again = await s.cli(["keys", "generate", "--ssh", join(s.dir, "host"), "--store", "op://Dev/host"])
        expect(again.code).toBe(0)
        expect(again.stdout).toBe(first.stdout)
        expect(again.stderr).toBe("secrets: op://Dev/host/identity already holds this identity: nothing written\n")
        expect(JSON.stringify(await s.op.readStore())).toBe(after)
    })
})
