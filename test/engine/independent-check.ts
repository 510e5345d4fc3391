/**
 * An independent reading of sops-format.md §1 and §4, written for the tests only and
 * sharing no code with src/: walk a decrypted-by-yaml-package tree, decrypt each ENC
 * value with WebCrypto under AAD = path keys joined by ":" plus ":", and recompute the
 * SHA-512 MAC over the plaintext values. It handles the value types our test
 * documents use (str, int, bool, float without exponent) and the default
 * `_unencrypted` suffix rule.
 */
import { parse } from "yaml"

const ENC = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/

async function gcmOpen(key: Uint8Array, enc: string, aad: string): Promise<{ bytes: Uint8Array; type: string }> {
    const m = ENC.exec(enc)
    if (!m) throw new Error("not an ENC value")
    const [, data, iv, tag, type] = m as unknown as [string, string, string, string, string]
    const k = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["decrypt"])
    const sealed = Buffer.concat([Buffer.from(data, "base64"), Buffer.from(tag, "base64")])
    const out = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: Buffer.from(iv, "base64"), additionalData: new TextEncoder().encode(aad), tagLength: 128 },
        k,
        sealed,
    )
    return { bytes: new Uint8Array(out), type }
}

export interface IndependentResult {
    values: Record<string, string>
    macMatches: boolean
}

/** Decrypt every value of an encrypted YAML text and check its MAC, without src/. */
export async function independentlyOpen(yamlText: string, key: Uint8Array): Promise<IndependentResult> {
    const doc = parse(yamlText) as Record<string, unknown>
    const sops = doc.sops as { mac: string; lastmodified: string }
    delete doc.sops
    const hash: Uint8Array[] = []
    const values: Record<string, string> = {}
    async function walk(node: unknown, path: string[], clear: boolean): Promise<void> {
        if (Array.isArray(node)) {
            for (const item of node) await walk(item, path, clear)
        } else if (node !== null && typeof node === "object") {
            for (const [k, v] of Object.entries(node)) await walk(v, [...path, k], clear || k.endsWith("_unencrypted"))
        } else if (node !== null && node !== undefined) {
            if (clear) {
                const text = typeof node === "boolean" ? (node ? "True" : "False") : String(node)
                hash.push(new TextEncoder().encode(text))
                values[path.join(".")] = text
                return
            }
            if (node === "") return
            const { bytes, type } = await gcmOpen(key, String(node), path.join(":") + ":")
            hash.push(bytes)
            values[path.join(".")] = `${type}:${new TextDecoder().decode(bytes)}`
        }
    }
    await walk(doc, [], false)
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", Buffer.concat(hash)))
    const computed = Buffer.from(digest).toString("hex").toUpperCase()
    const stored = new TextDecoder().decode((await gcmOpen(key, sops.mac, sops.lastmodified)).bytes)
    return { values, macMatches: stored === computed }
}
