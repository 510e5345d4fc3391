import { generateIdentity, identityToRecipient } from "age-encryption"
import { beforeAll, describe, expect, it } from "vitest"

import { collectConfigOpIdentities, collectIdentities, type IdentityContext } from "../../../src/files/identity-sources.js"
import { OpError } from "../../../src/integrations/op-errors.js"

const HOME = "/home/u"
const SOPS_ORDER = [
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)",
    "SOPS_AGE_SSH_PRIVATE_KEY_CMD (not set)",
    "/home/u/.ssh/id_ed25519 (not found)",
    "/home/u/.ssh/id_rsa (not found)",
    "SOPS_AGE_KEY (not set)",
    "SOPS_AGE_KEY_FILE (not set)",
    "SOPS_AGE_KEY_CMD (not set)",
]
const DEFAULT_FILE = "/home/u/.config/sops/age/keys.txt (not found)"

/** A fake context whose 1Password holds `vault` (reference -> value); records each read. */
function fake(env: Record<string, string>, vault: Record<string, string | Error>, over: Partial<IdentityContext> = {}) {
    const reads: string[] = []
    const ctx: IdentityContext = {
        env,
        homedir: HOME,
        platform: "linux",
        exists: async () => false,
        readFile: async () => {
            throw Object.assign(new Error("ENOENT"), { code: "ENOENT" })
        },
        runKeyCommand: async () => "",
        readOpReference: async (ref) => {
            reads.push(ref)
            const v = vault[ref]
            if (v === undefined) throw new OpError("field-not-found", `1Password item has no field (needed for '${ref}')`, ["check the field label"])
            if (v instanceof Error) throw v
            return v
        },
        ...over,
    }
    return { ctx, reads }
}

let k: string[] = []
beforeAll(async () => {
    k = await Promise.all(Array.from({ length: 4 }, () => generateIdentity()))
})

describe("1Password identity sources", () => {
    it("are not listed, and op is not run, when none is configured", async () => {
        const f = fake({}, {})
        const r = await collectIdentities(f.ctx)
        expect(r.lookedIn).toEqual([...SOPS_ORDER, DEFAULT_FILE])
        expect(f.reads).toEqual([])
    })

    it("sit after SOPS_AGE_KEY_CMD and before the default key file, flag then env; the repo's config is not read", async () => {
        const f = fake(
            { SECRETS_AGE_KEY_OP: "op://Dev/env/identity" },
            {
                "op://Dev/flag/identity": `${k[0]}\n`,
                "op://Dev/env/identity": `# created: 2024-01-01T00:00:00Z\n# public key: x\n${k[1]}\n`,
                "op://Dev/cfg/identity": `${k[2]}\n${k[3]}`,
            },
            {
                ageKeyOpFlags: ["op://Dev/flag/identity"],
                configAgeKeyOp: { path: "/repo/.sops.yaml", value: "op://Dev/cfg/identity" },
            },
        )
        const r = await collectIdentities(f.ctx)
        expect(r.lookedIn).toEqual([
            ...SOPS_ORDER,
            "--age-key-op=op://Dev/flag/identity (1 key)",
            "SECRETS_AGE_KEY_OP=op://Dev/env/identity (1 key)",
            DEFAULT_FILE,
        ])
        expect(r.identities).toEqual([k[0], k[1]])
        expect(f.reads).toEqual(["op://Dev/flag/identity", "op://Dev/env/identity"])
        expect(r.warnings).toEqual([])
        // Issue 10 §9: the repo's secrets.age_key_op is a second round of its own, run
        // by the caller only when the identities above opened nothing.
        const later = await collectConfigOpIdentities(f.ctx)
        expect(later.lookedIn).toEqual(["/repo/.sops.yaml secrets.age_key_op=op://Dev/cfg/identity (2 keys)"])
        expect(later.identities).toEqual([k[2], k[3]])
        expect(f.reads).toEqual(["op://Dev/flag/identity", "op://Dev/env/identity", "op://Dev/cfg/identity"])
    })

    it("combines with sops's sources: SOPS_AGE_KEY's identity comes first", async () => {
        const f = fake({ SOPS_AGE_KEY: k[0]!, SECRETS_AGE_KEY_OP: "op://Dev/age/identity" }, { "op://Dev/age/identity": k[1]! })
        const r = await collectIdentities(f.ctx)
        expect(r.identities).toEqual([k[0], k[1]])
        expect(r.lookedIn).toContain("SOPS_AGE_KEY (1 key)")
        expect(r.lookedIn.at(-2)).toBe("SECRETS_AGE_KEY_OP=op://Dev/age/identity (1 key)")
    })

    it("reads a reference given in several places once", async () => {
        const ref = "op://Dev/age/identity"
        const f = fake({ SECRETS_AGE_KEY_OP: ` ${ref}\n` }, { [ref]: k[0]! }, { ageKeyOpFlags: [ref], configAgeKeyOp: { path: "/r/.sops.yaml", value: [ref] } })
        const r = await collectIdentities(f.ctx)
        expect(f.reads).toEqual([ref])
        expect(r.identities).toEqual([k[0]])
        expect(r.lookedIn.slice(7, 9)).toEqual([`--age-key-op=${ref} (1 key)`, `SECRETS_AGE_KEY_OP=${ref} (read above)`])
        const later = await collectConfigOpIdentities(f.ctx)
        expect(f.reads).toEqual([ref])
        expect(later.lookedIn).toEqual([`/r/.sops.yaml secrets.age_key_op=${ref} (read above)`])
    })

    it("turns an op failure into a warning and a looked-in entry with op's hint, and goes on", async () => {
        const signedOut = new OpError("signed-out", "the 1Password CLI is not signed in (needed for \"op://Dev/age/identity\")", [
            "run `eval $(op signin)`, unlock the desktop app, or set OP_SERVICE_ACCOUNT_TOKEN for CI",
        ])
        const f = fake({ SECRETS_AGE_KEY_OP: "op://Dev/age/identity" }, { "op://Dev/age/identity": signedOut, "op://Dev/b/identity": k[2]! }, {
            ageKeyOpFlags: ["op://Dev/b/identity"],
        })
        const r = await collectIdentities(f.ctx)
        expect(r.identities).toEqual([k[2]])
        expect(r.lookedIn.slice(7)).toEqual([
            "--age-key-op=op://Dev/b/identity (1 key)",
            "SECRETS_AGE_KEY_OP=op://Dev/age/identity (failed: run `eval $(op signin)`, unlock the desktop app, or set OP_SERVICE_ACCOUNT_TOKEN for CI)",
            DEFAULT_FILE,
        ])
        expect(r.warnings).toEqual(["SECRETS_AGE_KEY_OP=op://Dev/age/identity: the 1Password CLI is not signed in (needed for \"op://Dev/age/identity\")"])
    })

    it("reduces a foreign error to its name, never its text", async () => {
        const f = fake({ SECRETS_AGE_KEY_OP: "op://Dev/age/identity" }, { "op://Dev/age/identity": new TypeError(`boom ${"AGE-SECRET-KEY-1SECRET"}`) })
        const r = await collectIdentities(f.ctx)
        expect(r.warnings).toEqual(["SECRETS_AGE_KEY_OP=op://Dev/age/identity: TypeError"])
        expect(r.lookedIn).toContain("SECRETS_AGE_KEY_OP=op://Dev/age/identity (failed)")
    })

    it("reports content that is not an identity as invalid without quoting it", async () => {
        const f = fake({ SECRETS_AGE_KEY_OP: "op://Dev/db/password" }, { "op://Dev/db/password": "hunter2-not-a-key" })
        const r = await collectIdentities(f.ctx)
        expect(r.identities).toEqual([])
        expect(r.lookedIn).toContain("SECRETS_AGE_KEY_OP=op://Dev/db/password (invalid)")
        expect(r.warnings).toHaveLength(1)
        expect(r.warnings.join("\n")).not.toContain("hunter2")
    })

    it("accepts an SSH private key and converts it", async () => {
        const { execFileSync } = await import("node:child_process")
        const { mkdtempSync, readFileSync, rmSync } = await import("node:fs")
        const { tmpdir } = await import("node:os")
        const { join } = await import("node:path")
        const dir = mkdtempSync(join(tmpdir(), "op-id-"))
        try {
            execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "k")])
            const f = fake({ SECRETS_AGE_KEY_OP: "op://Dev/ssh/private key" }, { "op://Dev/ssh/private key": readFileSync(join(dir, "k"), "utf8") })
            const r = await collectIdentities(f.ctx)
            // The SSH identity and its X25519 twin (keys/ssh-lazy.ts).
            expect(r.identities).toHaveLength(2)
            expect(r.lookedIn).toContain("SECRETS_AGE_KEY_OP=op://Dev/ssh/private key (ssh-ed25519 key)")
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })

    it("rejects a value that is not a reference, and a bad config value, without reading", async () => {
        const pasted = k[0]!
        const f = fake({ SECRETS_AGE_KEY_OP: pasted }, {}, { configAgeKeyOp: { path: "/r/.sops.yaml", value: { nested: true } } })
        const r = await collectIdentities(f.ctx)
        const later = await collectConfigOpIdentities(f.ctx)
        expect(f.reads).toEqual([])
        expect(r.lookedIn.slice(7)).toEqual(["SECRETS_AGE_KEY_OP (not an op:// reference)", DEFAULT_FILE])
        expect(later.lookedIn).toEqual(["/r/.sops.yaml secrets.age_key_op (invalid)"])
        expect([...r.warnings, ...later.warnings]).toEqual([
            "SECRETS_AGE_KEY_OP: expected a secret reference such as op://vault/item/field",
            "/r/.sops.yaml secrets.age_key_op must be an op:// reference or a list of them",
        ])
        expect(JSON.stringify([r, later])).not.toContain(pasted)
    })

    it("says 1Password is not available when the context has no reader", async () => {
        const f = fake({ SECRETS_AGE_KEY_OP: "op://Dev/age/identity" }, {}, { readOpReference: undefined })
        const { readOpReference: _drop, ...ctx } = f.ctx
        const r = await collectIdentities(ctx)
        expect(r.lookedIn).toContain("SECRETS_AGE_KEY_OP=op://Dev/age/identity (1Password not available)")
    })

    it("an identity read from 1Password opens what it should", async () => {
        const f = fake({ SECRETS_AGE_KEY_OP: "op://CI/age/identity" }, { "op://CI/age/identity": `${k[3]}\n` })
        const r = await collectIdentities(f.ctx)
        const only = r.identities[0]
        expect(typeof only === "string" ? await identityToRecipient(only) : "").toBe(await identityToRecipient(k[3]!))
    })
})
