/**
 * The INI store (sops-format.md §7.4, §6.1), following gopkg.in/ini.v1 1.67, which
 * sops uses to read and write: one branch whose items are sections (keys before
 * the first header are in section `DEFAULT`), all values strings, and the metadata
 * as a trailing `[sops]` section of flattened keys.
 */
import { FormatError, quote } from "../errors.js"
import type { Branch, MapItem, Node } from "../core/tree.js"
import { comment, entry, isScalar, str } from "../core/tree.js"
import { flatten, unflatten, valueToString } from "./flatten.js"
import type { EncryptedDocument, Store } from "./store.js"

const DEFAULT_SECTION = "DEFAULT"
const encoder = new TextEncoder()

interface IniKey { name: string; value: string; comment: string }
interface IniSection { name: string; comment: string; keys: IniKey[] }

/** ini.v1's `cleanComment`: the text from the first `#` or `;`, if any. */
function cleanComment(s: string): string | undefined {
    const i = s.search(/[#;]/)
    return i === -1 ? undefined : s.slice(i)
}

/** Go's strings.TrimSpace, near enough (JS also trims U+FEFF). */
const trim = (s: string): string => s.trim()

/** ini.v1 `hasSurroundedQuote`: quote at both ends and nowhere in between. */
function hasSurroundedQuote(s: string, q: string): boolean {
    return s.length >= 2 && s[0] === q && s[s.length - 1] === q && s.indexOf(q, 1) === s.length - 1
}

/** sops' stripCommentChar: drop the leading run of comment markers and spaces. */
function stripCommentChar(c: string): string {
    if (c.startsWith(";")) return c.replace(/^[; ]+/, "")
    if (c.startsWith("#")) return c.replace(/^[# ]+/, "")
    return c
}

/** Parse INI text the way ini.v1's parser does with sops' (default) options. */
function parseIni(text: string): IniSection[] {
    // ini.v1 reads with ReadBytes('\n'): every line keeps its newline.
    const lines = text.split(/(?<=\n)/)
    let n = 0
    const next = (): string | undefined => lines[n++]
    let section: IniSection = { name: DEFAULT_SECTION, comment: "", keys: [] }
    const sections = [section]
    let pending = ""
    let counter = 1
    for (let raw = next(); raw !== undefined; raw = next()) {
        const lineNo = n
        const line = raw.trimStart()
        if (line === "") continue
        if (line[0] === "#" || line[0] === ";") {
            pending += line
            continue
        }
        if (line[0] === "[") {
            const close = line.lastIndexOf("]")
            if (close === -1) throw new FormatError(`unclosed INI section header on line ${lineNo}`)
            const name = line.slice(1, close)
            if (name === "") throw new FormatError(`empty INI section name on line ${lineNo}`)
            pending += cleanComment(line.slice(close + 1)) ?? ""
            // Repeated sections stay separate (sops loads with AllowNonUniqueSections).
            section = { name, comment: trim(pending), keys: [] }
            sections.push(section)
            pending = ""
            counter = 1
            continue
        }
        // Key name: optionally quoted with ", """ or `, ended by "=" or ":".
        let name: string
        let offset: number
        const q = line[0] === "\"" ? (line.length > 6 && line.startsWith("\"\"\"") ? "\"\"\"" : "\"") : line[0] === "`" ? "`" : ""
        if (q !== "") {
            const pos = line.indexOf(q, q.length)
            if (pos === -1) throw new FormatError(`missing closing key quote on line ${lineNo}`)
            const i = line.slice(pos + q.length).search(/[=:]/)
            if (i === -1) throw new FormatError(`missing key-value delimiter on line ${lineNo}`)
            name = trim(line.slice(q.length, pos))
            offset = pos + q.length + i + 1
        } else {
            const i = line.search(/[=:]/)
            if (i === -1) throw new FormatError(`missing key-value delimiter on line ${lineNo}`)
            name = trim(line.slice(0, i))
            offset = i + 1
        }
        if (name === "-") name = "#" + String(counter++)
        if (name === "") throw new FormatError(`empty INI key name on line ${lineNo}`)

        // Value (ini.v1 readValue).
        let value = ""
        const rest = line.slice(offset).trimStart()
        const vq = rest.length > 3 && rest.startsWith("\"\"\"") ? "\"\"\"" : rest[0] === "`" ? "`" : ""
        if (rest === "") {
            value = ""
        } else if (vq !== "") {
            const body = rest.slice(vq.length)
            const pos = body.lastIndexOf(vq)
            if (pos !== -1) {
                value = body.slice(0, pos)
            } else {
                // A multi-line value runs to the last quote on a later line; this is
                // how sops 3.13.0/3.13.1 wrote metadata with real newlines.
                value = body
                for (;;) {
                    const more = next()
                    if (more === undefined) throw new FormatError(`missing closing value quote for the key on line ${lineNo}`)
                    const p = more.lastIndexOf(vq)
                    if (p !== -1) {
                        value += more.slice(0, p)
                        const c = cleanComment(more.slice(p))
                        if (c !== undefined) pending += trim(c)
                        break
                    }
                    value += more
                }
            }
        } else {
            let v = trim(rest)
            if (v.endsWith("\\")) {
                // Continuation lines; comments in them are kept as text, as in ini.v1.
                v = v.slice(0, -1)
                for (;;) {
                    const more = trim(next() ?? "")
                    if (more === "") break
                    v += more
                    if (!v.endsWith("\\")) break
                    v = v.slice(0, -1)
                }
                value = v
            } else {
                const c = v.search(/[#;]/)
                if (c !== -1) {
                    pending += v.slice(c)
                    v = trim(v.slice(0, c))
                }
                if (hasSurroundedQuote(v, "'") || hasSurroundedQuote(v, "\"")) v = v.slice(1, -1)
                value = v
            }
        }
        // A repeated key keeps its first position and takes the last value.
        const existing = section.keys.find((k) => k.name === name)
        if (existing !== undefined) {
            existing.value = value
            existing.comment = trim(pending)
        } else {
            section.keys.push({ name, value, comment: trim(pending) })
        }
        pending = ""
    }
    return sections
}

/** The tree sops builds from INI sections: section comment first, key comments after their key. */
function sectionsToBranch(sections: readonly IniSection[]): Branch {
    const items: MapItem[] = sections.map((s) => {
        const inner: MapItem[] = []
        if (s.comment !== "") inner.push(comment(stripCommentChar(s.comment)))
        for (const k of s.keys) {
            inner.push(entry(k.name, str(k.value)))
            if (k.comment !== "") inner.push(comment(stripCommentChar(k.comment)))
        }
        return entry(s.name, { kind: "map", items: inner })
    })
    return { kind: "map", items }
}

/** Build ini.v1's in-memory file from a branch, as sops' encodeTree does. */
function branchesToSections(branches: readonly Branch[]): IniSection[] {
    // ini.Empty() already holds an empty DEFAULT section, and (unlike loading)
    // NewSection returns an existing section of the same name.
    const sections: IniSection[] = [{ name: DEFAULT_SECTION, comment: "", keys: [] }]
    for (const branch of branches) {
        for (const item of branch.items) {
            if (item.kind === "comment") continue
            const body = item.value
            if (body.kind !== "map") {
                throw new FormatError(`the value of ${quote(item.key)} must be a section (a mapping) in an INI file`, [
                    "INI files hold [section] blocks of key = value pairs; use yaml or json for other shapes",
                ])
            }
            let section = sections.find((s) => s.name === item.key)
            if (section === undefined) {
                section = { name: item.key, comment: "", keys: [] }
                sections.push(section)
            }
            let first = 0
            const head = body.items[0]
            if (head !== undefined && head.kind === "comment") {
                section.comment = head.text
                first = 1
            }
            let last: IniKey | undefined
            for (const it of body.items.slice(first)) {
                if (it.kind === "comment") {
                    if (last !== undefined) last.comment = it.text
                    continue
                }
                if (it.key === "") throw new FormatError(`empty key name in INI section ${quote(item.key)}`)
                const value = scalarText(it.value, item.key, it.key)
                last = section.keys.find((k) => k.name === it.key)
                if (last !== undefined) last.value = value
                else {
                    last = { name: it.key, value, comment: "" }
                    section.keys.push(last)
                }
            }
        }
    }
    return sections
}

function scalarText(v: Node, section: string, key: string): string {
    if (!isScalar(v)) {
        throw new FormatError(`cannot write the nested value at ${quote(section + "." + key)} to an INI file`, [
            "INI values must be scalars; use yaml or json for nested data",
        ])
    }
    return valueToString(v)
}

const byteLength = (s: string): number => encoder.encode(s).length

/** One comment line as ini.v1 writes it. */
function commentLine(line: string, trimPlain: boolean): string {
    const c = line[0]
    if (c !== "#" && c !== ";") return "; " + (trimPlain ? trim(line) : line)
    return c + " " + trim(line.slice(1))
}

/** Write sections as ini.v1's WriteTo does with PrettyFormat and PrettySection. */
function writeIni(sections: readonly IniSection[]): string {
    let out = ""
    let blankPending = false
    sections.forEach((sec, i) => {
        if (sec.comment.length > 0) {
            if (blankPending) out += "\n"
            blankPending = false
            for (const l of sec.comment.split("\n")) out += commentLine(l, false) + "\n"
        }
        if (i > 0 || sec.name.toUpperCase() !== DEFAULT_SECTION) {
            if (blankPending) out += "\n"
            out += "[" + sec.name + "]\n"
        } else if (sec.keys.length === 0) {
            return
        }
        blankPending = false
        const quoteKey = (k: string): string =>
            /["=:]/.test(k) ? "`" + k + "`" : k.includes("`") ? "\"\"\"" + k + "\"\"\"" : k
        // The "=" signs line up under the longest (quoted) key, counted in bytes.
        const align = Math.max(0, ...sec.keys.map((k) => byteLength(quoteKey(k.name))))
        for (const key of sec.keys) {
            if (key.comment.length > 0) {
                for (const l of key.comment.split("\n")) out += commentLine(l, true) + "\n"
            }
            const name = quoteKey(key.name)
            let v = key.value
            if (/[\n`]/.test(v)) v = "\"\"\"" + v + "\"\"\""
            else if (/[#;]/.test(v)) v = "`" + v + "`"
            else if (trim(v).length !== v.length) v = "\"" + v + "\""
            out += name + " ".repeat(align - byteLength(name)) + " = " + v + "\n"
        }
        // A blank line separates sections; sops ≥ 3.8 output has none after the last.
        blankPending = true
    })
    return out
}

/** An INI store. */
export function createIniStore(): Store {
    const decode = (input: Uint8Array): string => {
        let text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(input)
        if (text.startsWith("\ufeff")) text = text.slice(1)
        return text
    }
    return {
        format: "ini",
        parsePlain(input: Uint8Array): Branch[] {
            return [sectionsToBranch(parseIni(decode(input)))]
        },
        parseEncrypted(input: Uint8Array): EncryptedDocument {
            const sections = parseIni(decode(input))
            const sops = sections.find((s) => s.name === "sops")
            if (sops === undefined) throw new FormatError("no sops metadata found in file", ["is the file encrypted?"])
            // Literal "\n" is how 3.13.2 and ≤ 3.12 write newlines; 3.13.0/3.13.1 wrote
            // real ones inside """…""", which the parser has already read.
            const pairs = sops.keys.map((k): [string, string] => [k.name, k.value.replaceAll("\\n", "\n")])
            return {
                branches: [sectionsToBranch(sections.filter((s) => s.name !== "sops"))],
                metadata: unflatten(pairs),
            }
        },
        emitPlain(branches: readonly Branch[]): Uint8Array {
            return encoder.encode(writeIni(branchesToSections(branches)))
        },
        emitEncrypted(doc: EncryptedDocument): Uint8Array {
            const sections = branchesToSections(doc.branches)
            const keys = flatten(doc.metadata).map(([name, value]) => ({
                name,
                value: value.replaceAll("\n", "\\n"),
                comment: "",
            }))
            const existing = sections.find((s) => s.name === "sops")
            if (existing !== undefined) existing.keys.push(...keys)
            else sections.push({ name: "sops", comment: "", keys })
            return encoder.encode(writeIni(sections))
        },
        emitValue(node: Node): Uint8Array {
            if (node.kind === "str") return encoder.encode(node.value)
            if (node.kind === "bytes") return node.value
            if (node.kind === "map") return encoder.encode(writeIni(branchesToSections([node])))
            throw new FormatError("the INI store can only extract strings and sections")
        },
    }
}
