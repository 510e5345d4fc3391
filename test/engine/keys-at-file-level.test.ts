/**
 * Whole files with SSH recipients, checked against Debian's age and OpenSSH's
 * ssh-keygen, and files that carry keys we cannot use (PGP) keeping them verbatim.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { encryptNew, seal } from "../../src/engine/seal.js"
import { openEncrypted } from "../../src/engine/open.js"
import { parseIdentities } from "../../src/keys/identity-file.js"
import { loadStore } from "../../src/stores/index.js"
import { run, tempDir } from "../helpers/tmp.js"

const PLAIN = "token: s3cr3t\nport: 22\n"

function sshKey(dir: string, type: "ed25519" | "rsa") {
    const file = join(dir, `id_${type}`)
    run("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", "test", "-f", file])
    return { file, pub: readFileSync(`${file}.pub`, "utf8").trim(), priv: readFileSync(file, "utf8") }
}

describe("SSH recipients at file level", () => {
    for (const type of ["ed25519", "rsa"] as const) {
        it(`ssh-${type}: our file's data-key block opens with age -i, and our reader opens it with the private key`, async () => {
            const dir = tempDir()
            const key = sshKey(dir, type)
            const store = await loadStore("yaml")
            const out = await encryptNew(store.parsePlain(Buffer.from(PLAIN)), store, { groups: [[key.pub]] }, new Date())
            const sops = (parse(Buffer.from(out).toString()) as { sops: { age: { recipient: string; enc: string }[] } }).sops
            expect(sops.age[0]!.recipient).toBe(key.pub)
            writeFileSync(join(dir, "block.age"), sops.age[0]!.enc)
            expect(run("age", ["-d", "-i", key.file, join(dir, "block.age")])).toHaveLength(32)

            const opened = await openEncrypted(out, store, parseIdentities(key.priv, key.file))
            expect(Buffer.from(store.emitPlain(opened.branches)).toString()).toBe("token: s3cr3t\nport: 22\n")
        })
    }

    it("a data key wrapped by Debian age -R to an ssh-ed25519 key opens with our reader", async () => {
        const dir = tempDir()
        const key = sshKey(dir, "ed25519")
        // Build the file with our writer, then replace its data-key block with one made
        // by `age -R`: the file must still open, so the block format is age's, not ours.
        const store = await loadStore("yaml")
        const out = Buffer.from(await encryptNew(store.parsePlain(Buffer.from(PLAIN)), store, { groups: [[key.pub]] }, new Date())).toString()
        const sops = (parse(out) as { sops: { age: { enc: string }[] } }).sops
        writeFileSync(join(dir, "block.age"), sops.age[0]!.enc)
        const dataKey = run("age", ["-d", "-i", key.file, join(dir, "block.age")])
        const theirs = run("age", ["-e", "-a", "-R", `${key.file}.pub`], { input: dataKey }).toString()
        const indent = (s: string) => s.trimEnd().split("\n").map((l) => `            ${l}`).join("\n")
        const swapped = out.replace(indent(sops.age[0]!.enc), indent(theirs))
        expect(swapped).not.toBe(out)
        const opened = await openEncrypted(Buffer.from(swapped), store, parseIdentities(key.priv, key.file))
        expect(Buffer.from(store.emitPlain(opened.branches)).toString()).toBe(PLAIN)
    })
})

describe("keys we cannot use", () => {
    it("PGP entries of a real sops-nix file survive a re-seal verbatim", async () => {
        const root = join(import.meta.dirname, "../fixtures/interop/sops-nix")
        const input = readFileSync(join(root, "HEAD/secrets.yaml"))
        const store = await loadStore("yaml")
        const opened = await openEncrypted(input, store, parseIdentities(readFileSync(join(root, "keys.txt"), "utf8"), "keys.txt"))
        const out = seal(opened.branches, store, opened.metadata, opened.dataKey, opened.stash, new Date())
        type Pgp = { pgp: { fp: string; enc: string; created_at: string }[] }
        const before = (parse(input.toString()) as { sops: Pgp }).sops.pgp
        const after = (parse(Buffer.from(out).toString()) as { sops: Pgp }).sops.pgp
        expect(before).toHaveLength(2)
        expect(after).toEqual(before)
    })
})
