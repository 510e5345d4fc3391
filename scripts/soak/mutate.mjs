// Mutation operators for campaign 3: each takes the input bytes and a seeded rng
// and returns new bytes. Byte-level damage (flips, truncation, deletion), syntax
// that YAML, JSON, dotenv and INI parsers treat specially, duplicate keys, numbers
// out of every range, deep nesting, alias bombs, encodings, and damage aimed at
// the sops parts (ENC fields, the metadata block).

const TOKENS = [
    "{", "}", "[", "]", ":", ": ", "- ", "? ", "\"", "'", ",", "#", "&a ", "*a", "<<: *a\n", "!!binary ", "!!int ",
    "!!str ", "!!float ", "!!set ", "!!omap ", "!tag ", "---\n", "...\n", "\t", "\u0000", "\uFEFF", "\r\n", "\r",
    "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "|", ">", "|-\n", "=", "[section]\n", "export ", "\\", "\u2028", "${HOME}",
    "ENC[", "ENC[AES256_GCM,data:,iv:,tag:,type:str]", "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:int]",
    "type:comment", "type:bytes", "type:time", "sops:\n", "sops_", "_unencrypted", "null", "~", "__proto__: 1\n",
    "constructor: 1\n", "\"__proto__\": {}", "\udcff", "\xff\xfe",
]

const NUMBERS = [
    "1e999", "-1e999", "99999999999999999999999999999999", "-9223372036854775809", "9223372036854775808", "0x7fffffffffffffff",
    "0o777", "0b101", "1_000", ".inf", "-.inf", ".nan", "NaN", "Infinity", "-0", "0.0000000000000000000000001", "1e-400",
    "4.9e-324", "18446744073709551616", "2001-12-14t21:59:43.10-05:00", "0777", "+1", "1.", ".5",
]

const enc = (s) => Buffer.from(s, "latin1")
const utf8 = (s) => Buffer.from(s, "utf8")

function insertAt(buf, off, piece) {
    return Buffer.concat([buf.subarray(0, off), piece, buf.subarray(off)])
}

/** Line boundaries: [start, end) of each line, end excluding the newline. */
function lines(buf) {
    const out = []
    let start = 0
    for (let i = 0; i <= buf.length; i++) {
        if (i === buf.length || buf[i] === 0x0a) {
            out.push([start, i])
            start = i + 1
        }
    }
    return out
}

export const OPERATORS = {
    flipBit: (buf, rng) => {
        if (buf.length === 0) return buf
        const b = Buffer.from(buf)
        const off = rng.int(b.length)
        b[off] ^= 1 << rng.int(8)
        return b
    },
    setByte: (buf, rng) => {
        if (buf.length === 0) return buf
        const b = Buffer.from(buf)
        b[rng.int(b.length)] = rng.int(256)
        return b
    },
    truncate: (buf, rng) => buf.subarray(0, rng.int(buf.length + 1)),
    deleteRange: (buf, rng) => {
        const off = rng.int(buf.length + 1)
        return Buffer.concat([buf.subarray(0, off), buf.subarray(off + rng.range(1, 64))])
    },
    insertToken: (buf, rng) => insertAt(buf, rng.int(buf.length + 1), utf8(rng.pick(TOKENS))),
    insertAtLineStart: (buf, rng) => {
        const ls = lines(buf)
        const [start] = rng.pick(ls)
        return insertAt(buf, start, utf8(rng.pick(TOKENS)))
    },
    duplicateLine: (buf, rng) => {
        // A duplicate key in YAML, dotenv and INI; in JSON too when the line is a member.
        const ls = lines(buf)
        const [s, e] = rng.pick(ls)
        return insertAt(buf, e, Buffer.concat([enc("\n"), buf.subarray(s, e)]))
    },
    removeLine: (buf, rng) => {
        const ls = lines(buf)
        const [s, e] = rng.pick(ls)
        return Buffer.concat([buf.subarray(0, s), buf.subarray(Math.min(buf.length, e + 1))])
    },
    swapLines: (buf, rng) => {
        const ls = lines(buf)
        if (ls.length < 2) return buf
        const i = rng.int(ls.length - 1)
        const text = buf.toString("latin1").split("\n")
        ;[text[i], text[i + 1]] = [text[i + 1], text[i]]
        return enc(text.join("\n"))
    },
    hugeNumber: (buf, rng) => {
        // Replace a run of digits (a value, an index, a threshold) or append a member.
        const text = buf.toString("latin1")
        const runs = [...text.matchAll(/\d+(\.\d+)?/g)]
        if (runs.length === 0 || rng.chance(0.2)) return insertAt(buf, rng.int(buf.length + 1), enc(rng.pick(NUMBERS)))
        const m = rng.pick(runs)
        return enc(text.slice(0, m.index) + rng.pick(NUMBERS) + text.slice(m.index + m[0].length))
    },
    deepNesting: (buf, rng) => {
        const depth = rng.pick([50, 500, 5000, 20000])
        const kind = rng.int(4)
        const piece =
            kind === 0 ? "[".repeat(depth) + "]".repeat(depth)
            : kind === 1 ? '{"a":'.repeat(depth) + "1" + "}".repeat(depth)
            : kind === 2 ? "\n" + Array.from({ length: Math.min(depth, 2000) }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n") + " 1\n"
            : "- ".repeat(depth) + "x\n"
        return insertAt(buf, rng.chance(0.5) ? buf.length : rng.int(buf.length + 1), enc(piece))
    },
    aliasBomb: (buf, rng) => {
        // "Billion laughs": each level refers to the one below nine times.
        const levels = rng.range(3, 9)
        const out = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        for (let i = 1; i <= levels; i++) out.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]`)
        const piece = enc(`${out.join("\n")}\n`)
        return rng.chance(0.5) ? Buffer.concat([piece, buf]) : Buffer.concat([buf, enc("\n"), piece])
    },
    aliasValue: (buf, rng) => {
        // An anchor on one value and an alias in place of another.
        const text = buf.toString("latin1")
        const vals = [...text.matchAll(/: (\S[^\n]*)/g)]
        if (vals.length < 2) return buf
        const a = rng.pick(vals)
        const b = rng.pick(vals)
        const withAnchor = text.slice(0, a.index + 2) + "&x " + text.slice(a.index + 2)
        const shift = b.index > a.index ? 3 : 0
        const start = b.index + shift + 2
        return enc(withAnchor.slice(0, start) + "*x" + withAnchor.slice(start + b[1].length))
    },
    longLine: (buf, rng) => insertAt(buf, rng.int(buf.length + 1), enc("x".repeat(rng.pick([1000, 100_000, 1_000_000])))),
    crlf: (buf) => enc(buf.toString("latin1").replace(/\n/g, "\r\n")),
    utf16: (buf) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(buf.toString("latin1"), "utf16le")]),
    encField: (buf, rng) => {
        // Damage one field of one ENC[...] value: drop, swap with another's, odd type.
        const text = buf.toString("latin1")
        const encs = [...text.matchAll(/ENC\[AES256_GCM,data:([^,\]]*),iv:([^,\]]*),tag:([^,\]]*),type:([^\]]*)\]/g)]
        if (encs.length === 0) return buf
        const m = rng.pick(encs)
        const o = rng.pick(encs)
        const choice = rng.int(6)
        const [data, iv, tag, type] = [m[1], m[2], m[3], m[4]]
        const repl =
            choice === 0 ? `ENC[AES256_GCM,data:${o[1]},iv:${iv},tag:${tag},type:${type}]`
            : choice === 1 ? `ENC[AES256_GCM,data:${data},iv:${o[2]},tag:${o[3]},type:${type}]`
            : choice === 2 ? `ENC[AES256_GCM,data:${data},iv:${iv},tag:${tag},type:${rng.pick(["int", "float", "bool", "bytes", "time", "comment", "str", "STR", "", "x"])}]`
            : choice === 3 ? `ENC[AES256_GCM,data:${data},iv:${iv.slice(0, 4)},tag:${tag},type:${type}]`
            : choice === 4 ? `ENC[AES256_GCM,data:${data}`
            : o[0]
        return enc(text.slice(0, m.index) + repl + text.slice(m.index + m[0].length))
    },
    metadataLine: (buf, rng) => {
        // Change one line of the sops metadata: a value replaced by another kind of thing.
        const text = buf.toString("latin1")
        const at = text.search(/^sops:|"sops":|^sops_/m)
        if (at < 0) return OPERATORS.removeLine(buf, rng)
        const rest = text.slice(at).split("\n")
        const i = rng.int(rest.length)
        const line = rest[i] ?? ""
        const m = /^(\s*"?[\w]+"?\s*[:=]\s*)(.*)$/.exec(line)
        rest[i] = m === null ? line + rng.pick(TOKENS) : m[1] + rng.pick(['""', "[]", "{}", "null", "-1", "0", "99999999999999999999", "x", '"2026-13-45T99:99:99Z"', "[1, [2, [3]]]", "true", "age1qqq"])
        return enc(text.slice(0, at) + rest.join("\n"))
    },
    empty: () => Buffer.alloc(0),
}

export const OPERATOR_NAMES = Object.keys(OPERATORS)

/** Apply 1 to 3 random operators; returns the bytes and the names applied. */
export function mutate(buf, rng) {
    const n = rng.chance(0.6) ? 1 : rng.range(2, 3)
    const applied = []
    let out = Buffer.from(buf)
    for (let i = 0; i < n; i++) {
        // `empty` and the big ones sparingly: they dominate run time and say the same thing each time.
        let name = rng.pick(OPERATOR_NAMES)
        if ((name === "empty" || name === "longLine" || name === "utf16") && rng.chance(0.7)) name = "flipBit"
        // An alias bomb that hangs once (issue found by this campaign) hangs every time: 60 s per hit.
        if (name === "aliasBomb" && rng.chance(0.85)) name = "aliasValue"
        applied.push(name)
        out = OPERATORS[name](out, rng)
    }
    return { bytes: out, applied }
}

/** A mutated tree path for set/unset/--extract: brackets, quotes, indices, sizes. */
export function mutatePath(rng) {
    const good = ['["db"]["password"]', '["list"][0]', '["db"]', '["new"]["deep"]["key"]', '["a b"]', "[0]"]
    const bad = [
        '["db"', 'db.password', '[""]', '["db"]["password"', "[99999999999999999999]", "[-1]", '["x"][1e9]', '[\'db\']',
        '["\\u0000"]', '["sops"]', '["sops"]["mac"]', '["__proto__"]["polluted"]', '["constructor"]["prototype"]', "[]",
        '["a"]' + '["b"]'.repeat(2000), '["' + "k".repeat(100_000) + '"]', '["db"]["password"][0]', '["list"][5]', "x",
    ]
    const base = rng.chance(0.5) ? rng.pick(good) : rng.pick(bad)
    return rng.chance(0.3) ? OPERATORS.insertToken(Buffer.from(base), rng).toString("utf8") : base
}

/** A mutated JSON value for set. */
export function mutateValue(rng, canary) {
    const values = [
        JSON.stringify(canary), `{"user": "admin", "password": ${JSON.stringify(canary)}}`, `[1, ${JSON.stringify(canary)}, true]`, "1e999",
        "99999999999999999999999", "-0", "null", "true", '"\\ud800"', `"${canary}`, `${canary}`, "{", '{"a": 1, "a": 2}',
        "[".repeat(10_000) + "]".repeat(10_000), '{"__proto__": {"x": 1}}', '""', "0x10", "NaN", `{"sops": ${JSON.stringify(canary)}}`,
    ]
    const v = rng.pick(values)
    return rng.chance(0.3) ? OPERATORS.flipBit(Buffer.from(v), rng).toString("utf8") : v
}
