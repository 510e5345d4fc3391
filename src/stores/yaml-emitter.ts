/**
 * A port of the parts of go-yaml v3's libyaml emitter (emitterc.go) that sops output
 * goes through: block mappings and sequences, `{}`/`[]` for empty collections, the
 * five scalar styles, and head/line/foot comments.
 *
 * It is an event-driven state machine on purpose, like the original, because sops's
 * exact bytes depend on its quirks: the indentation rule yaml.v3 changed "so that
 * indentations are more regular", the blank line after a foot comment, and a foot
 * comment of a nested collection that surfaces after the next value (issue #1068).
 * yaml.v3 initialises `best_width` to -1, so lines are never folded.
 */

export type ScalarStyle = "plain" | "single" | "double" | "literal" | "folded"

export type Event =
    | { readonly t: "docStart"; readonly implicit: boolean }
    | { readonly t: "docEnd" }
    | { readonly t: "mapStart"; readonly head: string }
    /**
     * `tail`: the foot comment of the mapping's last key. yaml.v3's encoder moves a
     * key's foot comment onto the next key or the mapping end ("tail"), so that it is
     * written after the key's whole value (encode.go), at the indentation of the keys.
     */
    | { readonly t: "mapEnd"; readonly line: string; readonly foot: string; readonly tail?: string }
    | { readonly t: "seqStart"; readonly head: string }
    | { readonly t: "seqEnd"; readonly line: string; readonly foot: string }
    | {
          readonly t: "scalar"
          readonly value: string
          /** Tag as written (`!!binary`), "" for an implicit one. */
          readonly tag: string
          readonly style: ScalarStyle
          readonly head: string
          readonly line: string
          readonly foot: string
      }

type State =
    | "docFirst" | "doc" | "docContent" | "docEnd"
    | "flowSeqFirst" | "flowMapFirst"
    | "blockSeqFirst" | "blockSeq" | "blockMapFirst" | "blockMapKey"
    | "blockMapSimpleValue" | "blockMapValue" | "end"

/** What libyaml's analyze_scalar finds out about a value. */
export interface ScalarAnalysis {
    readonly multiline: boolean
    readonly flowPlain: boolean
    readonly blockPlain: boolean
    readonly singleQuoted: boolean
    readonly block: boolean
}

// libyaml's is_printable, by code point: yaml.v3 sets unicode output, so printable
// non-ASCII stays raw, but it never treats 4-byte UTF-8 (emoji) as printable.
export function isPrintable(cp: number): boolean {
    return (
        cp === 0x0a ||
        (cp >= 0x20 && cp <= 0x7e) ||
        (cp >= 0xa0 && cp <= 0xd7ff) ||
        (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
    )
}
const isBreak = (c: string | undefined): boolean =>
    c === "\r" || c === "\n" || c === "\u0085" || c === "\u2028" || c === "\u2029"
const isSpace = (c: string | undefined): boolean => c === " "
const isBlank = (c: string | undefined): boolean => c === " " || c === "\t"
const isBlankz = (c: string | undefined): boolean => isBlank(c) || isBreak(c) || c === "\0" || c === undefined

/** libyaml yaml_emitter_analyze_scalar. */
export function analyzeScalar(value: string): ScalarAnalysis {
    return analyzeQuietAscii(value) ?? analyzeScalarByCharacter(value)
}

// Printable ASCII without blanks (or in lines, spaces inside them): what sealed values
// (ENC[…]), age armor, recipients, dates and most keys are. For these the walk below
// can set only the indicator flags (and, with line breaks, multiline), which a few
// tests decide without visiting every character one by one: the walk costs about a
// microsecond a character, a few ms of every small write (issue 14 target 4).
const QUIET_LINE = /^[\x21-\x7e]+$/
const QUIET_LINES = /^[\x20-\x7e\n]+$/
const INDICATOR_FIRST = "#,[]{}&*!|>'\"%@`"
const FLOW_INDICATOR_LATER = /[,?[\]{}:]/

/** analyzeScalarByCharacter's answer for a quiet ASCII value, decided without the walk; undefined for any other value. */
export function analyzeQuietAscii(value: string): ScalarAnalysis | undefined {
    if (value.includes("\n")) {
        // Line breaks, and spaces only inside lines (the armor's BEGIN and END lines):
        // never plain, and nothing else in the value bars single quotes or a block
        // scalar (a space at either end of the value or next to a break would).
        const quiet = QUIET_LINES.test(value) && value[0] !== " " && !value.endsWith(" ") && !value.includes(" \n") && !value.includes("\n ")
        return quiet ? { multiline: true, flowPlain: false, blockPlain: false, singleQuoted: true, block: true } : undefined
    }
    if (!QUIET_LINE.test(value)) return undefined
    // No blank anywhere: a character is "followed by whitespace" only at the end, and
    // "#" is never preceded by it after the first character.
    const first = value[0]!
    const alone = value.length === 1
    const documentMarker = value.startsWith("---") || value.startsWith("...")
    const firstBoth = INDICATOR_FIRST.includes(first) || (alone && (first === "?" || first === ":" || first === "-"))
    const flowInd = documentMarker || firstBoth || first === "?" || first === ":" || FLOW_INDICATOR_LATER.test(value.slice(1))
    const blockInd = documentMarker || firstBoth || (!alone && value.endsWith(":"))
    return { multiline: false, flowPlain: !flowInd, blockPlain: !blockInd, singleQuoted: true, block: true }
}

/** libyaml yaml_emitter_analyze_scalar, character by character, for every value. */
export function analyzeScalarByCharacter(value: string): ScalarAnalysis {
    const v = Array.from(value)
    if (v.length === 0) {
        return { multiline: false, flowPlain: false, blockPlain: true, singleQuoted: true, block: false }
    }
    let blockInd = false, flowInd = false, lineBreaks = false, special = false, tabs = false
    let leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false
    let breakSpace = false, spaceBreak = false, prevSpace = false, prevBreak = false
    if (value.startsWith("---") || value.startsWith("...")) {
        blockInd = true
        flowInd = true
    }
    let precededByWs = true
    for (let i = 0; i < v.length; i++) {
        const c = v[i] as string
        const followedByWs = i + 1 >= v.length || isBlank(v[i + 1])
        if (i === 0) {
            if ("#,[]{}&*!|>'\"%@`".includes(c)) {
                flowInd = true
                blockInd = true
            } else if (c === "?" || c === ":") {
                flowInd = true
                if (followedByWs) blockInd = true
            } else if (c === "-" && followedByWs) {
                flowInd = true
                blockInd = true
            }
        } else if (",?[]{}".includes(c)) {
            flowInd = true
        } else if (c === ":") {
            flowInd = true
            if (followedByWs) blockInd = true
        } else if (c === "#" && precededByWs) {
            flowInd = true
            blockInd = true
        }
        if (c === "\t") tabs = true
        else if (!isPrintable(c.codePointAt(0) ?? 0)) special = true
        if (isSpace(c)) {
            if (i === 0) leadingSpace = true
            if (i === v.length - 1) trailingSpace = true
            if (prevBreak) breakSpace = true
            prevSpace = true
            prevBreak = false
        } else if (isBreak(c)) {
            lineBreaks = true
            if (i === 0) leadingBreak = true
            if (i === v.length - 1) trailingBreak = true
            if (prevSpace) spaceBreak = true
            prevSpace = false
            prevBreak = true
        } else {
            prevSpace = false
            prevBreak = false
        }
        precededByWs = isBlankz(c)
    }
    let flowPlain = true, blockPlain = true, singleQuoted = true, block = true
    if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) flowPlain = blockPlain = false
    if (trailingSpace) block = false
    if (breakSpace) flowPlain = blockPlain = singleQuoted = false
    if (spaceBreak || tabs || special) flowPlain = blockPlain = singleQuoted = false
    if (spaceBreak || special) block = false
    if (lineBreaks) flowPlain = blockPlain = false
    if (flowInd) flowPlain = false
    if (blockInd) blockPlain = false
    return { multiline: lineBreaks, flowPlain, blockPlain, singleQuoted, block }
}

/** libyaml yaml_emitter_select_scalar_style, for block context without tags. */
export function selectStyle(
    style: ScalarStyle,
    a: ScalarAnalysis,
    value: string,
    ctx: { readonly simpleKey: boolean; readonly flow: boolean; readonly implicit: boolean },
): ScalarStyle {
    let s = style
    if (ctx.simpleKey && a.multiline) s = "double"
    if (s === "plain") {
        if ((ctx.flow && !a.flowPlain) || (!ctx.flow && !a.blockPlain)) s = "single"
        if (value.length === 0 && (ctx.flow || ctx.simpleKey)) s = "single"
        if (!ctx.implicit) s = "single"
    }
    if (s === "single" && !a.singleQuoted) s = "double"
    if ((s === "literal" || s === "folded") && (!a.block || ctx.flow || ctx.simpleKey)) s = "double"
    return s
}

const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8")

/**
 * Runs a list of events through the emitter and returns the text. `characterWalk`
 * turns off the bulk write of quiet plain scalars: the reference the tests hold it to.
 */
export function emitEvents(events: readonly Event[], bestIndent: number, characterWalk = false): string {
    return new Emitter(events, bestIndent < 2 || bestIndent > 9 ? 2 : bestIndent, characterWalk).run()
}

class Emitter {
    /**
     * The output, one character at a time as libyaml writes it. `out += c` would build a
     * rope of one V8 cons-string per character (~30 bytes each: 400 MiB for a file of
     * 100k values, issue 14), so characters are collected in `pending` and joined into
     * flat pieces every few thousand.
     */
    private readonly pieces: string[] = []
    private readonly pending: string[] = []
    private column = 0
    private whitespace = true
    private indention = true
    private indent = -1
    private readonly indents: number[] = []
    private state: State = "docFirst"
    private readonly states: State[] = []
    private flowLevel = 0
    private footIndent = -1
    private headComment = ""
    private lineComment = ""
    private footComment = ""
    private tailComment = ""
    private keyLineComment = ""
    private simpleKeyContext = false
    private head = 0
    private readonly bestWidth = Number.MAX_SAFE_INTEGER

    private readonly events: readonly Event[]
    private readonly bestIndent: number

    private readonly characterWalk: boolean

    constructor(events: readonly Event[], bestIndent: number, characterWalk: boolean) {
        this.events = events
        this.bestIndent = bestIndent
        this.characterWalk = characterWalk
    }

    run(): string {
        for (this.head = 0; this.head < this.events.length; this.head++) {
            const ev = this.events[this.head] as Event
            if ("head" in ev && ev.head) this.headComment = ev.head
            if ("line" in ev && ev.line) this.lineComment = ev.line
            if ("foot" in ev && ev.foot) this.footComment = ev.foot
            if ("tail" in ev && ev.tail) this.tailComment = ev.tail
            this.dispatch(ev)
        }
        this.flush()
        return this.pieces.join("")
    }

    private write(s: string): void {
        this.pending.push(s)
        if (this.pending.length >= 8192) this.flush()
    }

    private flush(): void {
        this.pieces.push(this.pending.join(""))
        this.pending.length = 0
    }

    private next(): Event | undefined {
        return this.events[this.head + 1]
    }

    private popState(): void {
        this.state = this.states.pop() ?? "end"
    }

    private popIndent(): void {
        this.indent = this.indents.pop() ?? -1
    }

    private dispatch(ev: Event): void {
        switch (this.state) {
            case "docFirst":
            case "doc":
                return this.documentStart(ev, this.state === "docFirst")
            case "docContent":
                this.states.push("docEnd")
                this.processHeadComment()
                this.node(ev, { root: true, sequence: false, mapping: false, simpleKey: false })
                this.processLineComment()
                this.processFootComment()
                return
            case "docEnd":
                return this.documentEnd(ev)
            case "flowSeqFirst":
            case "flowMapFirst":
                return this.flowEmpty(ev, this.state === "flowSeqFirst")
            case "blockSeqFirst":
            case "blockSeq":
                return this.blockSequenceItem(ev, this.state === "blockSeqFirst")
            case "blockMapFirst":
            case "blockMapKey":
                return this.blockMappingKey(ev, this.state === "blockMapFirst")
            case "blockMapSimpleValue":
            case "blockMapValue":
                return this.blockMappingValue(ev, this.state === "blockMapSimpleValue")
            case "end":
                throw new Error("yaml emitter: expected nothing after the stream end")
        }
    }

    private documentStart(ev: Event, first: boolean): void {
        if (ev.t !== "docStart") throw new Error("yaml emitter: expected a document start")
        if (!(ev.implicit && first)) {
            this.writeIndent()
            this.writeIndicator("---", true, false, false)
            this.writeIndent()
        }
        this.state = "docContent"
    }

    private documentEnd(ev: Event): void {
        if (ev.t !== "docEnd") throw new Error("yaml emitter: expected a document end")
        // [Go] Force document foot separation.
        this.footIndent = 0
        this.processFootComment()
        this.footIndent = -1
        this.writeIndent()
        this.state = "doc"
    }

    private flowEmpty(ev: Event, seq: boolean): void {
        this.writeIndicator(seq ? "[" : "{", true, true, false)
        this.increaseIndent(true, false)
        this.flowLevel++
        if (ev.t !== (seq ? "seqEnd" : "mapEnd")) throw new Error("yaml emitter: only empty flow collections are supported")
        if (!seq) this.processHeadComment()
        this.flowLevel--
        this.popIndent()
        if (seq && this.column === 0) this.writeIndent()
        this.writeIndicator(seq ? "]" : "}", false, false, false)
        this.processLineComment()
        this.processFootComment()
        this.popState()
    }

    private blockSequenceItem(ev: Event, first: boolean): void {
        if (first) this.increaseIndent(false, false)
        if (ev.t === "seqEnd") {
            this.popIndent()
            this.popState()
            return
        }
        this.processHeadComment()
        this.writeIndent()
        this.writeIndicator("-", true, false, true)
        this.states.push("blockSeq")
        this.node(ev, { root: false, sequence: true, mapping: false, simpleKey: false })
        this.processLineComment()
        this.processFootComment()
    }

    private blockMappingKey(ev: Event, first: boolean): void {
        if (first) this.increaseIndent(false, false)
        this.processHeadComment()
        if (ev.t === "mapEnd") {
            this.popIndent()
            this.popState()
            return
        }
        this.writeIndent()
        if (this.lineComment) {
            // [Go] a line comment on the key is rendered after the value indicator.
            this.keyLineComment = this.lineComment
            this.lineComment = ""
        }
        if (this.checkSimpleKey(ev)) {
            this.states.push("blockMapSimpleValue")
            this.node(ev, { root: false, sequence: false, mapping: true, simpleKey: true })
            return
        }
        this.writeIndicator("?", true, false, true)
        this.states.push("blockMapValue")
        this.node(ev, { root: false, sequence: false, mapping: true, simpleKey: false })
    }

    private blockMappingValue(ev: Event, simple: boolean): void {
        if (simple) {
            this.writeIndicator(":", false, false, false)
        } else {
            this.writeIndent()
            this.writeIndicator(":", true, false, true)
        }
        if (this.keyLineComment) {
            if (ev.t === "scalar") {
                if (!this.lineComment) {
                    this.lineComment = this.keyLineComment
                    this.keyLineComment = ""
                }
            } else if (ev.t === "mapStart" || ev.t === "seqStart") {
                const saved = this.lineComment
                this.lineComment = this.keyLineComment
                this.processLineComment()
                this.keyLineComment = ""
                this.lineComment = saved
            }
        }
        this.states.push("blockMapKey")
        this.node(ev, { root: false, sequence: false, mapping: true, simpleKey: false })
        this.processLineComment()
        this.processFootComment()
    }

    private checkSimpleKey(ev: Event): boolean {
        if (ev.t !== "scalar") return false
        if (analyzeScalar(ev.value).multiline) return false
        return utf8Length(ev.tag) + utf8Length(ev.value) <= 128
    }

    private node(
        ev: Event,
        ctx: { root: boolean; sequence: boolean; mapping: boolean; simpleKey: boolean },
    ): void {
        this.simpleKeyContext = ctx.simpleKey
        switch (ev.t) {
            case "scalar":
                return this.scalar(ev)
            case "seqStart": {
                const empty = this.next()?.t === "seqEnd"
                this.state = this.flowLevel > 0 || empty ? "flowSeqFirst" : "blockSeqFirst"
                return
            }
            case "mapStart": {
                const empty = this.next()?.t === "mapEnd"
                this.state = this.flowLevel > 0 || empty ? "flowMapFirst" : "blockMapFirst"
                return
            }
            default:
                throw new Error(`yaml emitter: unexpected ${ev.t}`)
        }
    }

    private scalar(ev: Extract<Event, { t: "scalar" }>): void {
        const a = analyzeScalar(ev.value)
        const implicit = ev.tag === ""
        // libyaml forces quotes only for an untagged non-implicit scalar, which the
        // yaml.v3 encoder never produces: every event here is tagged or implicit.
        const style = selectStyle(ev.style, a, ev.value, {
            simpleKey: this.simpleKeyContext,
            flow: this.flowLevel > 0,
            implicit: true,
        })
        if (!implicit) {
            if (!this.whitespace) this.put(" ")
            this.writeAll(ev.tag)
            this.whitespace = false
            this.indention = false
        }
        this.increaseIndent(true, false)
        const breaks = !this.simpleKeyContext
        switch (style) {
            case "plain":
                this.writePlain(ev.value, breaks)
                break
            case "single":
                this.writeSingle(ev.value, breaks)
                break
            case "double":
                this.writeDouble(ev.value, breaks)
                break
            case "literal":
                this.writeLiteral(ev.value)
                break
            case "folded":
                this.writeFolded(ev.value)
                break
        }
        this.popIndent()
        this.popState()
    }

    // yaml.v3 changed libyaml's rule "so that indentations are more regular": inside
    // a sequence item the indent skips "- ", everywhere else it snaps to the next
    // multiple of the chosen indentation.
    private increaseIndent(flow: boolean, indentless: boolean): void {
        this.indents.push(this.indent)
        if (this.indent < 0) {
            this.indent = flow ? this.bestIndent : 0
        } else if (!indentless) {
            if (this.states[this.states.length - 1] === "blockSeq") {
                this.indent += 2
            } else {
                this.indent = this.bestIndent * Math.floor((this.indent + this.bestIndent) / this.bestIndent)
            }
        }
    }

    // ---- low-level writers (emitterc.go put/write/put_break/write_indent…) ----

    private put(c: string): void {
        this.write(c)
        this.column++
    }

    private putBreak(): void {
        this.write("\n")
        this.column = 0
        this.indention = true
    }

    private writeBreak(c: string): void {
        if (c === "\n") {
            this.putBreak()
        } else {
            this.write(c)
            this.column = 0
            this.indention = true
        }
    }

    private writeAll(s: string): void {
        for (const c of s) this.put(c)
    }

    private writeIndent(): void {
        const indent = Math.max(this.indent, 0)
        if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) {
            this.putBreak()
        }
        if (this.footIndent === indent) this.putBreak()
        while (this.column < indent) this.put(" ")
        this.whitespace = true
        this.footIndent = -1
    }

    private writeIndicator(ind: string, needWs: boolean, isWs: boolean, isIndention: boolean): void {
        if (needWs && !this.whitespace) this.put(" ")
        this.writeAll(ind)
        this.whitespace = isWs
        this.indention = this.indention && isIndention
    }

    private writeComment(comment: string): void {
        let breaks = false
        let pound = false
        for (const c of comment) {
            if (isBreak(c)) {
                this.writeBreak(c)
                breaks = true
                pound = false
            } else {
                if (breaks) this.writeIndent()
                if (!pound) {
                    if (c !== "#") {
                        this.put("#")
                        this.put(" ")
                    }
                    pound = true
                }
                this.put(c)
                this.indention = false
                breaks = false
            }
        }
        if (!breaks) this.putBreak()
        this.whitespace = true
    }

    private processHeadComment(): void {
        if (this.tailComment) {
            this.writeIndent()
            this.writeComment(this.tailComment)
            this.tailComment = ""
            this.footIndent = Math.max(this.indent, 0)
        }
        if (!this.headComment) return
        this.writeIndent()
        this.writeComment(this.headComment)
        this.headComment = ""
    }

    private processLineComment(): void {
        if (!this.lineComment) return
        if (!this.whitespace) this.put(" ")
        this.writeComment(this.lineComment)
        this.lineComment = ""
    }

    // yaml.v3 ≥ 3.0.1 (go-yaml issue #755): the block scalar header always ends its
    // line, so a value that starts with a line break keeps it.
    private lineCommentOrBreak(): void {
        if (this.lineComment) this.processLineComment()
        else this.putBreak()
    }

    private processFootComment(): void {
        if (!this.footComment) return
        this.writeIndent()
        this.writeComment(this.footComment)
        this.footComment = ""
        this.footIndent = Math.max(this.indent, 0)
    }

    private writePlain(value: string, allowBreaks: boolean): void {
        if (!this.characterWalk && QUIET_LINE.test(value)) {
            // Printable ASCII without blanks (every ENC value, most keys): the loop
            // below would put it character by character with nothing to decide, a
            // sixth of an encrypt of 100k values (issue 14). One character a column.
            if (!this.whitespace) this.put(" ")
            this.write(value)
            this.column += value.length
            this.whitespace = false
            this.indention = false
            return
        }
        const v = Array.from(value)
        if (v.length > 0 && !this.whitespace) this.put(" ")
        let spaces = false
        let breaks = false
        for (let i = 0; i < v.length; i++) {
            const c = v[i] as string
            if (isSpace(c)) {
                if (allowBreaks && !spaces && this.column > this.bestWidth && !isSpace(v[i + 1])) {
                    this.writeIndent()
                } else {
                    this.put(c)
                }
                spaces = true
            } else if (isBreak(c)) {
                if (!breaks && c === "\n") this.putBreak()
                this.writeBreak(c)
                breaks = true
            } else {
                if (breaks) this.writeIndent()
                this.put(c)
                this.indention = false
                spaces = false
                breaks = false
            }
        }
        if (v.length > 0) this.whitespace = false
        this.indention = false
    }

    private writeSingle(value: string, allowBreaks: boolean): void {
        const v = Array.from(value)
        this.writeIndicator("'", true, false, false)
        let spaces = false
        let breaks = false
        for (let i = 0; i < v.length; i++) {
            const c = v[i] as string
            if (isSpace(c)) {
                if (allowBreaks && !spaces && this.column > this.bestWidth && i > 0 && i < v.length - 1 && !isSpace(v[i + 1])) {
                    this.writeIndent()
                } else {
                    this.put(c)
                }
                spaces = true
            } else if (isBreak(c)) {
                if (!breaks && c === "\n") this.putBreak()
                this.writeBreak(c)
                breaks = true
            } else {
                if (breaks) this.writeIndent()
                if (c === "'") this.put("'")
                this.put(c)
                this.indention = false
                spaces = false
                breaks = false
            }
        }
        this.writeIndicator("'", false, false, false)
        this.whitespace = false
        this.indention = false
    }

    private writeDouble(value: string, allowBreaks: boolean): void {
        const v = Array.from(value)
        let spaces = false
        this.writeIndicator('"', true, false, false)
        for (let i = 0; i < v.length; i++) {
            const c = v[i] as string
            const cp = c.codePointAt(0) ?? 0
            if (!isPrintable(cp) || cp === 0xfeff || isBreak(c) || c === '"' || c === "\\") {
                this.put("\\")
                const esc: Record<number, string> = {
                    0x00: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0a: "n", 0x0b: "v", 0x0c: "f",
                    0x0d: "r", 0x1b: "e", 0x22: '"', 0x5c: "\\", 0x85: "N", 0xa0: "_",
                    0x2028: "L", 0x2029: "P",
                }
                const e = esc[cp]
                if (e !== undefined) {
                    this.put(e)
                } else {
                    const [letter, width] = cp <= 0xff ? ["x", 2] : cp <= 0xffff ? ["u", 4] : ["U", 8]
                    this.put(letter as string)
                    this.writeAll(cp.toString(16).toUpperCase().padStart(width as number, "0"))
                }
                spaces = false
            } else if (isSpace(c)) {
                if (allowBreaks && !spaces && this.column > this.bestWidth && i > 0 && i < v.length - 1) {
                    this.writeIndent()
                    if (isSpace(v[i + 1])) this.put("\\")
                } else {
                    this.put(c)
                }
                spaces = true
            } else {
                this.put(c)
                spaces = false
            }
        }
        this.writeIndicator('"', false, false, false)
        this.whitespace = false
        this.indention = false
    }

    private writeBlockHints(v: readonly string[]): void {
        if (isSpace(v[0]) || isBreak(v[0])) {
            this.writeIndicator(String(this.bestIndent), false, false, false)
        }
        let chomp = ""
        const last = v[v.length - 1]
        if (v.length === 0 || !isBreak(last)) chomp = "-"
        else if (v.length === 1) chomp = "+"
        else if (isBreak(v[v.length - 2])) chomp = "+"
        if (chomp) this.writeIndicator(chomp, false, false, false)
    }

    private writeLiteral(value: string): void {
        const v = Array.from(value)
        this.writeIndicator("|", true, false, false)
        this.writeBlockHints(v)
        this.lineCommentOrBreak()
        this.whitespace = true
        let breaks = true
        for (const c of v) {
            if (isBreak(c)) {
                this.writeBreak(c)
                breaks = true
            } else {
                if (breaks) this.writeIndent()
                this.put(c)
                this.indention = false
                breaks = false
            }
        }
    }

    private writeFolded(value: string): void {
        const v = Array.from(value)
        this.writeIndicator(">", true, false, false)
        this.writeBlockHints(v)
        this.lineCommentOrBreak()
        this.whitespace = true
        let breaks = true
        let leadingSpaces = true
        for (let i = 0; i < v.length; i++) {
            const c = v[i] as string
            if (isBreak(c)) {
                if (!breaks && !leadingSpaces && c === "\n") {
                    let k = 0
                    while (isBreak(v[k])) k++
                    if (!isBlankz(v[k])) this.putBreak()
                }
                this.writeBreak(c)
                breaks = true
            } else {
                if (breaks) {
                    this.writeIndent()
                    leadingSpaces = isBlank(c)
                }
                if (!breaks && isSpace(c) && !isSpace(v[i + 1]) && this.column > this.bestWidth) {
                    this.writeIndent()
                } else {
                    this.put(c)
                }
                this.indention = false
                breaks = false
            }
        }
    }
}
