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
 */
import { Transform, type TransformCallback } from "node:stream"

export const CONCEALED = "<concealed by secrets>"

/** A compiled needle set; build once, then make one {@link MaskingStream} per output. */
export interface Matcher {
    /** delta[state * 256 + byte]: the next state. */
    readonly delta: Int32Array
    /** Length of the longest needle ending at this state (0: none). */
    readonly out: Int32Array
    /** Depth of each state in the trie: how many bytes of a needle it has read. */
    readonly depth: Int32Array
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
    const delta = new Int32Array(states * 256)
    const fail = new Int32Array(states)
    const out = Int32Array.from(outLen)
    // Breadth-first: a state's failure state is shallower, so already complete.
    const queue: number[] = []
    for (let b = 0; b < 256; b++) {
        const t = goto[0]!.get(b) ?? 0
        delta[b] = t
        if (t !== 0) queue.push(t)
    }
    for (let qi = 0; qi < queue.length; qi++) {
        const s = queue[qi]!
        // The longest needle ending here is this state's own, or else its failure
        // state's (a proper suffix).
        if (out[s] === 0) out[s] = out[fail[s]!]!
        for (let b = 0; b < 256; b++) {
            const t = goto[s]!.get(b)
            if (t === undefined) {
                delta[s * 256 + b] = delta[fail[s]! * 256 + b]!
            } else {
                fail[t] = delta[fail[s]! * 256 + b]!
                delta[s * 256 + b] = t
                queue.push(t)
            }
        }
    }
    return { delta, out, depth: Int32Array.from(depth), needles: count }
}

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
    private readonly marker: Uint8Array
    private readonly m: Matcher

    constructor(m: Matcher, marker: string = CONCEALED) {
        this.m = m
        this.marker = new TextEncoder().encode(marker)
    }

    push(chunk: Uint8Array): Uint8Array {
        if (this.m.needles === 0) return chunk
        const base = this.total
        const held = this.held.length === 0 ? chunk : concat(this.held, chunk)
        const heldStart = this.emitted
        const { delta, out, depth } = this.m
        const closed: number[] = []
        const pending = this.pending
        // No new run may start before this: bytes before it are written or concealed.
        let floor = this.emitted
        let state = this.state
        const n = chunk.length
        for (let i = 0; i < n; i++) {
            if (state === 0 && pending.length === 0) {
                // Nothing in progress: skip to the next byte that can start a needle
                // (most of a log), without the bookkeeping below.
                while (i < n && delta[chunk[i]!] === 0) i++
                if (i === n) break
            }
            state = delta[state * 256 + chunk[i]!]!
            const end = base + i + 1
            const len = out[state]!
            if (len > 0) {
                let start = Math.max(end - len, floor)
                // Join every pending run this occurrence touches (they are the last ones).
                while (pending.length > 0 && pending[pending.length - 1]! >= start) {
                    start = Math.min(start, pending[pending.length - 2]!)
                    pending.length -= 2
                }
                pending.push(start, end)
            }
            // A run no later occurrence can reach (they all start at or after the
            // frontier) is complete.
            const frontier = end - depth[state]!
            while (pending.length > 0 && pending[1]! < frontier) {
                closed.push(pending[0]!, pending[1]!)
                floor = pending[1]!
                pending.splice(0, 2)
            }
        }
        this.state = state
        this.total = base + chunk.length
        const frontier = this.total - depth[state]!
        const parts: Uint8Array[] = []
        let cursor = this.emitted
        for (let k = 0; k < closed.length; k += 2) {
            const s = Math.max(closed[k]!, cursor)
            if (s > cursor) parts.push(held.subarray(cursor - heldStart, s - heldStart))
            parts.push(this.marker)
            cursor = Math.max(cursor, closed[k + 1]!)
        }
        const safe = pending.length > 0 ? Math.min(frontier, pending[0]!) : frontier
        if (safe > cursor) {
            parts.push(held.subarray(cursor - heldStart, safe - heldStart))
            cursor = safe
        }
        this.emitted = cursor
        // Copy the tail: a subarray would pin the whole chunk in memory.
        this.held = held.slice(cursor - heldStart)
        return parts.length === 1 ? parts[0]! : concat(...parts)
    }

    end(): Uint8Array {
        const parts: Uint8Array[] = []
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
        return concat(...parts)
    }
}

/** A Transform that masks everything written through it. */
export class MaskingStream extends Transform {
    private readonly masker: Masker

    constructor(matcher: Matcher) {
        super()
        this.masker = new Masker(matcher)
    }

    override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
        const out = this.masker.push(chunk)
        if (out.length > 0) this.push(out)
        done()
    }

    override _flush(done: TransformCallback): void {
        const out = this.masker.end()
        if (out.length > 0) this.push(out)
        done()
    }
}

function concat(...parts: Uint8Array[]): Uint8Array {
    if (parts.length === 1) return parts[0]!
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
