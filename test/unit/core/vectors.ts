/**
 * Reading the real sops vectors without a store: ENC strings in file order, the
 * stored MAC and lastmodified, and the data keys recovered with the age CLI
 * (test/fixtures/interop/_derived/datakeys.json).
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"

export const INTEROP = join(import.meta.dirname, "../../fixtures/interop")

const datakeys = JSON.parse(readFileSync(join(INTEROP, "_derived/datakeys.json"), "utf8")) as Record<
    string,
    { datakey_hex?: string }
>

export function dataKey(name: string): Uint8Array {
    const hex = datakeys[name]?.datakey_hex
    if (hex === undefined) throw new Error(`no data key for ${name}`)
    return new Uint8Array(Buffer.from(hex, "hex"))
}

function split(name: string): { data: string; meta: string } {
    const text = readFileSync(join(INTEROP, name), "utf8")
    const at = text.search(/^sops:$/m)
    return { data: text.slice(0, at), meta: text.slice(at) }
}

/** Every ENC string of the document part, in file order. */
export function encStrings(name: string): string[] {
    return split(name).data.match(/ENC\[AES256_GCM,[^\]]*\]/g) ?? []
}

/** The stored (encrypted) MAC and the lastmodified text. */
export function storedMac(name: string): { mac: string; lastModified: string } {
    const { meta } = split(name)
    const mac = /^\s+mac: (ENC\[[^\]]*\])$/m.exec(meta)?.[1]
    const lastModified = /^\s+lastmodified: "?([^"\n]+)"?$/m.exec(meta)?.[1]
    if (mac === undefined || lastModified === undefined) throw new Error(`no mac in ${name}`)
    return { mac, lastModified }
}

/** A queue over a vector's ENC strings, for building its encrypted tree by hand. */
export function encQueue(name: string): () => string {
    const all = encStrings(name)
    let i = 0
    return () => {
        const s = all[i++]
        if (s === undefined) throw new Error(`${name} has only ${all.length} ENC strings`)
        return s
    }
}
