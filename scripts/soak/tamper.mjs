// Campaign 4: every 1-byte tamper of a small YAML file encrypted for two age
// recipients. For each byte offset and each change, decrypt (main() in process,
// which is fast and runs the same code as the binary) and classify:
//
//   detected                  the decrypt failed (exit code tallied: 51 MAC, 128 no
//                             identity, 25 or 1 bad format, ...)
//   accepted, same plaintext  the decrypt succeeded and printed the original: a byte
//                             that carries no meaning for this reader (the other
//                             recipient's stanza, `version`, base64 padding bits)
//   accepted, format limit    the decrypt succeeded and printed something else, in
//                             a way the sops format does not protect (below)
//   UNDETECTED                anything else that decrypts to a different output
//
// sops authenticates each value (AES-GCM with its key path as additional data) and
// all values together (the MAC, itself sealed with `lastmodified` as additional
// data). It does not authenticate comments (they are encrypted, but outside the MAC,
// and one that does not decrypt is kept as written: sops.go Tree.Decrypt, "Assume
// the comment was not encrypted in the first place"), nor the key names of values
// left in clear (`_unencrypted`: the MAC hashes values only, and a clear value has
// no additional data), nor the shape of a list (an item's additional data is its
// list's path). Those three are tallied apart as format limits; UNDETECTED must
// be 0.
//
// The sweep runs with each recipient's identity, so that a tamper in either stanza
// is read by someone.
import { mkdirSync, writeFileSync } from "node:fs"
import { parse as parseYaml } from "yaml"
import { join } from "node:path"
import { ageKeygen, campaignDir, hasInternalError, hasStackTrace, inProcess, leakedCanary, tally } from "./common.mjs"

/** The byte changes tried at every offset. */
export const CHANGES = {
    // The smallest change: one bit, e.g. a base64 digit or a digit of a number.
    xor01: (b) => b ^ 0x01,
    // Letter case, space <-> NUL, ':' <-> '\x1a': what a careless edit or encoding does.
    xor20: (b) => b ^ 0x20,
}

/** Every change with each identity: the full sweep. */
export const DEFAULT_PASSES = [
    ["a", "xor01"],
    ["a", "xor20"],
    ["b", "xor01"],
    ["b", "xor20"],
]

/**
 * The plaintext: small (every byte is tried several times), with an encrypted
 * comment, a string, an int, a bool in a list, and a value left in clear.
 */
export function tamperPlaintext(canary) {
    return ["# database", "db:", `    password: ${canary}`, "    port: 5432", "list:", "    - true", "note_unencrypted: clear", ""].join("\n")
}

/**
 * The key path of every line of a YAML text as sops writes it (`db.password`,
 * `sops.age[1].enc`, `list[0]`, `comment`, `blank`), for the tallies. Lines of a
 * block scalar (the armored age stanzas) get the key they belong to.
 */
export function lineLabels(text) {
    const labels = []
    const stack = [] // { indent, name }
    const items = new Map() // parent path -> items seen
    const path = () => stack.map((e) => e.name).join(".").replace(/\.\[/g, "[")
    const nextItem = (indent) => {
        while (stack.length > 0 && stack.at(-1).indent >= indent) stack.pop()
        const parent = path()
        const n = items.get(parent) ?? 0
        items.set(parent, n + 1)
        stack.push({ indent, name: `[${n}]` })
    }
    for (const line of text.split("\n")) {
        const indent = line.length - line.trimStart().length
        const body = line.trimStart()
        if (body === "") {
            labels.push("blank")
            continue
        }
        if (body.startsWith("#")) {
            labels.push("comment")
            continue
        }
        const item = body.startsWith("- ")
        const key = /^(?:- )?([A-Za-z0-9_]+):(?:\s|$)/.exec(body)
        if (item) nextItem(indent)
        if (key !== null) {
            const keyIndent = item ? indent + 2 : indent
            while (stack.length > 0 && stack.at(-1).indent >= keyIndent && !(item && stack.at(-1).indent === indent)) stack.pop()
            stack.push({ indent: keyIndent, name: key[1] })
            labels.push(path())
        } else if (item) {
            labels.push(path())
        } else {
            // A line of a block scalar: it belongs to the key above it.
            while (stack.length > 0 && stack.at(-1).indent >= indent) stack.pop()
            labels.push(path())
        }
    }
    return labels
}

/** Where the byte at `offset` is: its line's label, and "(space)" for indentation and separators. */
export function regionOf(text, offset, labels = lineLabels(text)) {
    const before = text.slice(0, offset)
    const lineNo = before.split("\n").length - 1
    const ch = text[offset]
    if (ch === "\n") return "newline"
    const label = labels[lineNo] ?? "other"
    return ch === " " ? `${label} (space)` : label
}

/**
 * How a decrypted output differs from the original plaintext: only in comment lines,
 * only in the key name of a value left in clear (format limits), or otherwise.
 */
export function classifyChange(original, output) {
    const a = original.split("\n")
    const b = output.split("\n")
    if (a.length !== b.length) return sameSopsLeaves(original, output) ? "list-shape" : "other"
    const diff = a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i] ?? ""]]))
    if (diff.length === 0) return "same"
    if (diff.every(([x, y]) => x.trimStart().startsWith("#") && y.trimStart().startsWith("#"))) return "comment"
    const clearKey = /^(\s*(?:- )?)([^:]+)(:.*)$/
    const renamed = diff.every(([x, y]) => {
        const mx = clearKey.exec(x)
        const my = clearKey.exec(y)
        return mx !== null && my !== null && mx[1] === my[1] && mx[3] === my[3] && mx[2].endsWith("_unencrypted") && my[2].endsWith("_unencrypted")
    })
    if (renamed) return "clear-key-name"
    return sameSopsLeaves(original, output) ? "list-shape" : "other"
}

/**
 * Whether two YAML documents have the same values under the same sops paths. sops's
 * additional data for a list item is its list's path (no index: sops.go walkSlice
 * passes the path on unchanged), and the MAC hashes values in order, so a scalar
 * and a one-item list holding it cannot be told apart. A 1-byte tamper reaches that
 * through an unknown YAML tag (`!- ENC[...]`), which Go's yaml.v3 resolves to the
 * plain string as we do (resolve.go: `if !resolvableTag(tag) { return tag, in }`).
 */
function sameSopsLeaves(a, b) {
    const leaves = (text) => {
        const out = []
        const walk = (v, path) => {
            if (Array.isArray(v)) for (const x of v) walk(x, path)
            else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...path, k])
            else out.push(`${path.join(":")}:=${JSON.stringify(v)}`)
        }
        walk(parseYaml(text), [])
        return out.join("\n")
    }
    try {
        return leaves(a) === leaves(b)
    } catch {
        return false
    }
}

/**
 * Run the sweep. Returns the figures; `undetected` lists every accepted tamper whose
 * output differed, with enough to reproduce it.
 */
export async function tamperCampaign({ build, seedHex, keep = false, log = () => {}, passes = DEFAULT_PASSES, stride = 1 }) {
    const start = performance.now()
    const dir = campaignDir("tamper", keep)
    const keys = join(dir, "keys")
    mkdirSync(keys)
    const a = ageKeygen(keys, "a")
    const b = ageKeygen(keys, "b")
    const run = await inProcess(build)
    const canary = `CANARY-${seedHex}`
    const plain = tamperPlaintext(canary)
    const work = join(dir, "work")
    mkdirSync(work)
    writeFileSync(join(work, "t.yaml"), plain)
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir }
    const enc = await run(["encrypt", "--age", `${a.recipient},${b.recipient}`, "t.yaml"], { cwd: work, env })
    if (enc.code !== 0) throw new Error(`tamper: encrypt failed: ${enc.stderr}`)
    const original = Buffer.from(enc.stdout)
    // The untampered file decrypts with each identity: the baseline.
    for (const k of [a, b]) {
        writeFileSync(join(work, "t.yaml"), original)
        const r = await run(["decrypt", "t.yaml"], { cwd: work, env: { ...env, SOPS_AGE_KEY_FILE: k.file } })
        if (r.code !== 0 || r.stdout !== plain) throw new Error(`tamper: the untampered file does not decrypt: ${r.stderr}`)
    }

    const text = original.toString("latin1")
    const labels = lineLabels(text)
    const detected = []
    const accepted = []
    const undetected = []
    const internal = []
    const stacks = []
    const leaks = []
    let tries = 0
    const formatLimits = []
    const identities = { a, b }
    for (const [pass, [who, change]] of passes.entries()) {
        const envK = { ...env, SOPS_AGE_KEY_FILE: identities[who].file }
        const fn = CHANGES[change]
        // With a stride (the small version in npm test), every stride-th byte, each pass at another phase.
        for (let off = pass % stride; off < original.length; off += stride) {
            const bytes = Buffer.from(original)
            bytes[off] = fn(bytes[off])
            writeFileSync(join(work, "t.yaml"), bytes)
            const r = await run(["decrypt", "t.yaml"], { cwd: work, env: envK })
            tries++
            const region = regionOf(text, off, labels)
            const id = { identity: who, change, offset: off, region }
            if (hasInternalError(r.stderr)) internal.push(id)
            if (hasStackTrace(r.stderr)) stacks.push(id)
            if (leakedCanary(r.stderr, [canary])) leaks.push(id)
            if (r.code !== 0) {
                detected.push(r.code)
                continue
            }
            const kind = classifyChange(plain, r.stdout)
            if (kind === "same") accepted.push(region.replace(/ \(space\)$/, ""))
            else if (kind === "other") undetected.push(id)
            else formatLimits.push(kind)
        }
        log(`tamper: identity ${who}, ${change}: ${original.length} offsets done`)
    }
    return {
        fileBytes: original.length,
        tries,
        detected: detected.length,
        detectedByCode: tally(detected),
        acceptedSamePlaintext: accepted.length,
        acceptedByRegion: tally(accepted),
        acceptedFormatLimit: formatLimits.length,
        acceptedFormatLimitByKind: tally(formatLimits),
        undetected,
        internalErrors: internal,
        stackTraces: stacks,
        valuesOnStderr: leaks,
        seconds: (performance.now() - start) / 1000,
    }
}
