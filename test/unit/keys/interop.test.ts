/**
 * Every age `enc` block of the real-sops vectors opens with that source's keys.txt
 * to exactly the data key (or Shamir share) recorded in _derived/datakeys.json,
 * which was recovered independently with the age CLI.
 *
 * Blocks are cut out of the raw file text with a regex, for every format: YAML
 * block scalars (indentation stripped), JSON strings and dotenv/INI values (literal
 * `\n` escapes), INI triple-quoted values (real newlines).
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"

import { describe, expect, it } from "vitest"

import { unwrapDataKey } from "../../../src/keys/age.js"
import { parseIdentities } from "../../../src/keys/identity-file.js"
import { hex, INTEROP } from "./helpers.js"

interface Expected {
    readonly datakey_hex?: string
    readonly shamir_shares?: Readonly<Record<string, string>>
    readonly via?: string
}

const datakeys = JSON.parse(readFileSync(join(INTEROP, "_derived/datakeys.json"), "utf8")) as Record<string, Expected>

/** The armored age files in a sops file, normalised to what sops hands to age. */
export function extractAgeBlocks(text: string): string[] {
    const re = /-----BEGIN AGE ENCRYPTED FILE-----[\s\S]*?-----END AGE ENCRYPTED FILE-----/g
    return [...text.matchAll(re)].map((m) =>
        m[0]
            .replaceAll("\\n", "\n")
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "")
            .join("\n") + "\n",
    )
}

const vectors = Object.entries(datakeys).filter(([, v]) => v.via !== "gpg")

describe("real sops vectors", () => {
    it("covers every age vector in datakeys.json", () => {
        expect(vectors.length).toBe(35)
    })

    for (const [path, expected] of vectors) {
        it(path, async () => {
            const source = path.split("/")[0] ?? ""
            const keysPath = join(INTEROP, source, "keys.txt")
            const identities = parseIdentities(readFileSync(keysPath, "utf8"), keysPath)
            const blocks = extractAgeBlocks(readFileSync(join(INTEROP, path), "utf8"))
            expect(blocks.length).toBeGreaterThan(0)
            const want = expected.datakey_hex ?? Object.values(expected.shamir_shares ?? {})[0]
            const opened: string[] = []
            for (const block of blocks) {
                const key = hex(await unwrapDataKey(block, identities))
                if (key !== null) opened.push(key)
            }
            expect(opened.length).toBeGreaterThan(0)
            for (const key of opened) expect(key).toBe(want)
        })
    }
})

describe("age-layer vectors from sops' age/keysource_test.go", () => {
    const dir = join(INTEROP, "getsops-sops/age-keysource-test")

    it("mockEncryptedKey.age (X25519) opens with mockIdentity.txt to \"data\"", async () => {
        const ids = parseIdentities(readFileSync(join(dir, "mockIdentity.txt"), "utf8"), "mockIdentity.txt")
        const out = await unwrapDataKey(readFileSync(join(dir, "mockEncryptedKey.age"), "utf8"), ids)
        expect(Buffer.from(out ?? []).toString()).toBe("data")
    })

    it("mockEncryptedSshKey.age (ssh-ed25519 stanza) opens with mockSshIdentity to \"data\"", async () => {
        const ids = parseIdentities(readFileSync(join(dir, "mockSshIdentity"), "utf8"), "mockSshIdentity")
        // The SSH identity and its X25519 twin (as sops ≥3.11 builds them, age/ssh_parse.go).
        expect(ids).toHaveLength(2)
        const out = await unwrapDataKey(readFileSync(join(dir, "mockEncryptedSshKey.age"), "utf8"), ids)
        expect(Buffer.from(out ?? []).toString()).toBe("data")
    })

    it("the ssh-ed25519 file does not open with the X25519 identity, and vice versa", async () => {
        const x = parseIdentities(readFileSync(join(dir, "mockIdentity.txt"), "utf8"), "x")
        const s = parseIdentities(readFileSync(join(dir, "mockSshIdentity"), "utf8"), "s")
        expect(await unwrapDataKey(readFileSync(join(dir, "mockEncryptedSshKey.age"), "utf8"), x)).toBeNull()
        expect(await unwrapDataKey(readFileSync(join(dir, "mockEncryptedKey.age"), "utf8"), s)).toBeNull()
    })
})
