/**
 * The output masker of `secrets run` (issue 13 point 1): a byte stream in which
 * every occurrence of an injected value is replaced by `<concealed by secrets>`,
 * as `op run` replaces them by `<concealed by 1Password>`.
 *
 * Why bytes and an automaton, not a regex over strings: the child writes whatever
 * it likes, in chunks that split values (and UTF-8 characters) anywhere, down to
 * one byte per write; a regex built from values would need escaping and can cost
 * more than linear time. An Aho-Corasick automaton over the needles' UTF-8 bytes,
 * compiled to a full transition table, looks at each output byte once.
 *
 * What is concealed is the union of all occurrences of all needles: where two
 * values overlap (`abcd` and `cdef` in `abcdef`) the whole run goes, so no part of
 * either survives (a leftmost-longest rewrite would print `ef`). A longer needle
 * always wins over a shorter one inside it, since it covers it.
 *
 * Streaming: a byte is written out once no needle occurrence can still cover it.
 * The automaton's state depth is the longest suffix of the output so far that
 * could begin a needle, so the tail held back is at most (longest needle - 1)
 * bytes, plus a concealed run that is still growing.
 *
 * Speed (issue 13: "masking costs under 2× a plain pipe"): almost all of a log is
 * bytes that begin no needle. From the idle state the scan reads the chunk four
 * bytes at a time and looks each half up in a 64 KiB table of byte pairs, so an
 * idle stretch costs about one table look-up per two bytes; a table entry that is
 * negative marks a state where a needle ends, so while nothing is pending the
 * byte loop is one look-up and one comparison. What goes out is views of the
 * chunk itself, not copies; only the held-back tail is copied.
 */
import { Transform, type TransformCallback } from "node:stream"

export const CONCEALED = "<concealed by secrets>"

/** A compiled needle set; build once, then make one {@link MaskingStream} per output. */
export interface Matcher {
    /**
     * step[state << 8 | byte]: the next state, or its bitwise complement (a negative
     * number) when a needle ends in that state.
     */
    readonly step: Int32Array
    /** Length of the longest needle ending at this state (0: none). */
    readonly out: Int32Array
    /** Depth of each state in the trie: how many bytes of a needle it has read. */
    readonly depth: Int32Array
    /** starts[byte]: 1 when some needle begins with this byte. */
    readonly starts: Uint8Array
    /** pairs[b0 | b1 << 8]: 1 when either byte begins a needle (the idle scan's coarse table). */
    readonly pairs: Uint8Array
    /**
     * opens[b0 | b1 << 8]: 1 when a needle can begin at b0 followed by b1 (its first
     * two bytes are b0 b1, or it is the one byte b0). The idle scan's fine table:
     * log text is full of bytes that begin a needle and almost never of such pairs.
     */
    readonly opens: Uint8Array
    readonly needles: number
}

/** Compile `needles` (empty ones are ignored). */
export function buildMatcher(needles: Iterable<string | Uint8Array>): Matcher {
    const enc = new TextEncoder()
    const goto: Map<number, number>[] = [new Map()]
    const depth: number[] = [0]
    const outLen: number[] = [0]
    let count = 0
    for (const n of needles) {
        const bytes = typeof n === "string" ? enc.encode(n) : n
        if (bytes.length === 0) continue
        count++
        let s = 0
        for (const b of bytes) {
            let next = goto[s]!.get(b)
            if (next === undefined) {
                next = goto.length
                goto.push(new Map())
                depth.push(depth[s]! + 1)
                outLen.push(0)
                goto[s]!.set(b, next)
            }
            s = next
        }
        outLen[s] = bytes.length
    }
    const states = goto.length
    const step = new Int32Array(states * 256)
    const fail = new Int32Array(states)
    const out = Int32Array.from(outLen)
    /** The table entry for a move into `t`: complemented when a needle ends there. */
    const entry = (t: number): number => (out[t]! > 0 ? ~t : t)
    // Breadth-first: a state's failure state is shallower, so its row is complete
    // and its output known. A state's output is set when it is found: the longest
    // needle ending there is its own, or else its failure state's (a proper suffix).
    const queue: number[] = []
    for (const [b, t] of goto[0]!) {
        step[b] = entry(t)
        queue.push(t)
    }
    for (let qi = 0; qi < queue.length; qi++) {
        const s = queue[qi]!
        const failRow = fail[s]! * 256
        // A byte with no trie edge goes where it goes from the failure state.
        step.copyWithin(s * 256, failRow, failRow + 256)
        for (const [b, t] of goto[s]!) {
            const f = step[failRow + b]!
            fail[t] = f < 0 ? ~f : f
            if (out[t] === 0) out[t] = out[fail[t]!]!
            step[s * 256 + b] = entry(t)
            queue.push(t)
        }
    }
    const starts = new Uint8Array(256)
    const pairs = new Uint8Array(65536)
    const opens = new Uint8Array(65536)
    for (const [b0, s1] of goto[0]!) {
        starts[b0] = 1
        pairs.fill(1, b0 << 8, (b0 << 8) + 256)
        for (let x = 0; x < 256; x++) pairs[b0 | (x << 8)] = 1
        if (outLen[s1]! > 0) for (let b1 = 0; b1 < 256; b1++) opens[b0 | (b1 << 8)] = 1
        for (const b1 of goto[s1]!.keys()) opens[b0 | (b1 << 8)] = 1
    }
    return { step, out, depth: Int32Array.from(depth), starts, pairs, opens, needles: count }
}

/** Chunks shorter than this are scanned byte by byte: the word view costs more than it saves. */
const WORD_SCAN_MIN = 64

/**
 * The masking state over one output: feed bytes with {@link push}, then
 * {@link end}; each returns the bytes that are final.
 */
export class Masker {
    private state = 0
    /** Bytes from `emitted` to `total` (absolute offsets in the output). */
    private held: Uint8Array = new Uint8Array(0)
    private emitted = 0
    private total = 0
    /**
     * Concealed runs a later occurrence may still join, as [start, end) pairs,
     * sorted and disjoint: runs a longer value in progress may bridge (the lines of
     * a multi-line value, then the whole value) stay apart until it is decided.
     */
    private pending: number[] = []
    /** Runs found complete in the current chunk (reused, cleared per chunk). */
    private readonly closed: number[] = []
    /** Where {@link scanToNeedleEnd} leaves the state it stopped in. */
    private readonly scanned = new Int32Array(1)
    private readonly marker: Uint8Array
    private readonly m: Matcher

    constructor(m: Matcher, marker: string = CONCEALED) {
        this.m = m
        this.marker = Buffer.from(marker)
    }

    push(chunk: Uint8Array): Uint8Array {
        const parts: Uint8Array[] = []
        this.pushParts(chunk, parts)
        return concat(parts)
    }

    /**
     * Like {@link push}, but appends the final bytes to `parts` as pieces: views of
     * `chunk` where they come from it, so a stream passes a pipe read on uncopied.
     */
    pushParts(chunk: Uint8Array, parts: Uint8Array[]): void {
        if (this.m.needles === 0) {
            if (chunk.length > 0) parts.push(chunk)
            return
        }
        const { step, out, depth } = this.m
        const base = this.total
        const n = chunk.length
        const pending = this.pending
        const closed = this.closed
        closed.length = 0
        // No new run may start before this: bytes before it are written or concealed.
        let floor = this.emitted
        let state = this.state
        // The chunk as aligned 32-bit words for the idle scan; `lead` bytes precede the first.
        let words: Uint32Array = NO_WORDS
        let lead = 0
        if (n >= WORD_SCAN_MIN) {
            lead = (4 - (chunk.byteOffset & 3)) & 3
            // At least one byte follows the last word: the fine check reads it.
            words = new Uint32Array(chunk.buffer, chunk.byteOffset + lead, (n - lead - 1) >> 2)
        }
        const scanned = this.scanned
        let i = 0
        while (i < n) {
            if (pending.length === 0) {
                // Nothing to join or close: run to where a needle ends.
                i = scanToNeedleEnd(this.m, chunk, words, lead, i, n, state, scanned)
                const s = scanned[0]!
                if (s >= 0) {
                    state = s
                    break
                }
                state = ~s
                const end = base + i
                pending.push(Math.max(end - out[state]!, floor), end)
                continue
            }
            // A run is pending: each byte may extend it, join it to a new one, or close it.
            let s = step[(state << 8) | chunk[i]!]!
            i++
            const end = base + i
            if (s < 0) {
                s = ~s
                let start = Math.max(end - out[s]!, floor)
                // Join every pending run this occurrence touches (they are the last ones).
                while (pending.length > 0 && pending[pending.length - 1]! >= start) {
                    start = Math.min(start, pending[pending.length - 2]!)
                    pending.length -= 2
                }
                pending.push(start, end)
            }
            state = s
            // A run no later occurrence can reach (they all start at or after the
            // frontier) is complete.
            const frontier = end - depth[s]!
            while (pending.length > 0 && pending[1]! < frontier) {
                closed.push(pending[0]!, pending[1]!)
                floor = pending[1]!
                pending.splice(0, 2)
            }
        }
        this.state = state
        this.total = base + n
        const frontier = this.total - depth[state]!
        const held = this.held
        const heldStart = this.emitted
        /** Bytes [from, to) of the output: the held tail, then this chunk. */
        const bytes = (from: number, to: number): void => {
            if (from < base) {
                const mid = Math.min(to, base)
                parts.push(held.subarray(from - heldStart, mid - heldStart))
                from = mid
            }
            if (to > from) parts.push(chunk.subarray(from - base, to - base))
        }
        let cursor = this.emitted
        for (let k = 0; k < closed.length; k += 2) {
            const s = Math.max(closed[k]!, cursor)
            if (s > cursor) bytes(cursor, s)
            parts.push(this.marker)
            cursor = Math.max(cursor, closed[k + 1]!)
        }
        const safe = pending.length > 0 ? Math.min(frontier, pending[0]!) : frontier
        if (safe > cursor) {
            bytes(cursor, safe)
            cursor = safe
        }
        this.emitted = cursor
        // Copy the tail (a view would pin the whole pipe read in memory).
        const tail: Uint8Array[] = []
        if (cursor < base) tail.push(held.subarray(cursor - heldStart))
        tail.push(chunk.subarray(Math.max(cursor, base) - base))
        this.held = copy(tail)
    }

    end(): Uint8Array {
        const parts: Uint8Array[] = []
        this.endParts(parts)
        return concat(parts)
    }

    /** Like {@link end}, appending the last bytes to `parts`. */
    endParts(parts: Uint8Array[]): void {
        let cursor = this.emitted
        for (let k = 0; k < this.pending.length; k += 2) {
            const s = Math.max(this.pending[k]!, cursor)
            if (s > cursor) parts.push(this.held.subarray(cursor - this.emitted, s - this.emitted))
            parts.push(this.marker)
            cursor = Math.max(cursor, this.pending[k + 1]!)
        }
        this.pending = []
        if (this.total > cursor) parts.push(this.held.subarray(cursor - this.emitted))
        this.emitted = this.total
        this.held = new Uint8Array(0)
    }
}

/**
 * The hot loop, kept apart so that V8 optimises it early and no rarely taken path
 * of the caller (a match, a pending run) throws it back to the interpreter: from
 * `state` at `chunk[i]`, step until a needle ends or the chunk does. Returns the
 * index after the last byte read and leaves in `scanned[0]` the state reached, or
 * its complement (negative) when a needle ends there.
 */
function scanToNeedleEnd(m: Matcher, chunk: Uint8Array, words: Uint32Array, lead: number, i: number, n: number, state: number, scanned: Int32Array): number {
    const { step, starts, pairs, opens } = m
    // With the word scan, the byte loop also stops on returning to the idle state.
    const wordScan = words.length > 0
    const stopAt = wordScan ? 0 : -1
    let s = state
    while (i < n) {
        if (s === 0 && wordScan) {
            i = skipIdle(chunk, words, lead, i, n, starts, pairs, opens)
            if (i === n) break
        }
        for (; i < n; i++) {
            s = step[(s << 8) | chunk[i]!]!
            if (s <= stopAt) break
        }
        if (i === n) break
        i++
        if (s < 0) break
    }
    scanned[0] = s
    return i
}

const NO_WORDS = new Uint32Array(0)

/**
 * From the idle state at `chunk[i]`: the index of the first word (or, before the
 * first word boundary, the first byte) where a needle may begin. The automaton
 * would end the words skipped in the idle state too: no needle begins at any of
 * their bytes (its first two bytes are not there, the last byte's pair taken with
 * the byte after the word), so no suffix of the output read so far is the start of
 * one, except perhaps the word's last byte alone, which the next byte then ends.
 * The caller steps through the rest byte by byte.
 */
function skipIdle(chunk: Uint8Array, words: Uint32Array, lead: number, i: number, n: number, starts: Uint8Array, pairs: Uint8Array, opens: Uint8Array): number {
    for (; ((i - lead) & 3) !== 0; i++) {
        if (i === n || starts[chunk[i]!] !== 0) return i
    }
    let w = (i - lead) >> 2
    const wn = words.length
    while (w < wn) {
        const x = words[w]!
        // Coarse: either half holds a byte some needle begins with (the table is
        // symmetric, so the machine's byte order does not matter).
        if ((pairs[x & 0xffff]! | pairs[x >>> 16]!) !== 0) {
            // Fine: a needle's first two bytes at one of the word's four positions.
            const p = lead + (w << 2)
            const b1 = chunk[p + 1]!
            const b2 = chunk[p + 2]!
            const b3 = chunk[p + 3]!
            if ((opens[chunk[p]! | (b1 << 8)]! | opens[b1 | (b2 << 8)]! | opens[b2 | (b3 << 8)]! | opens[b3 | (chunk[p + 4]! << 8)]!) !== 0) break
        }
        w++
    }
    return lead + (w << 2)
}

/** A Transform that masks everything written through it. */
export class MaskingStream extends Transform {
    private readonly masker: Masker
    private readonly parts: Uint8Array[] = []

    constructor(matcher: Matcher) {
        super()
        this.masker = new Masker(matcher)
    }

    override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
        this.parts.length = 0
        this.masker.pushParts(chunk, this.parts)
        for (const p of this.parts) if (p.length > 0) this.push(p)
        done()
    }

    override _flush(done: TransformCallback): void {
        this.parts.length = 0
        this.masker.endParts(this.parts)
        for (const p of this.parts) if (p.length > 0) this.push(p)
        done()
    }
}

/** The parts as one array: the part itself when there is one (no copy). */
function concat(parts: Uint8Array[]): Uint8Array {
    if (parts.length === 1) return parts[0]!
    return copy(parts)
}

/** A fresh array holding the parts one after the other. */
function copy(parts: Uint8Array[]): Uint8Array {
    let n = 0
    for (const p of parts) n += p.length
    const out = new Uint8Array(n)
    let o = 0
    for (const p of parts) {
        out.set(p, o)
        o += p.length
    }
    return out
}
