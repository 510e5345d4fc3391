/**
 * The editor buffer of `secrets git resolve` (issue 15 point 3): the merged file in
 * plaintext where each value changed differently on both sides shows both
 * versions between git-style conflict markers, which the user edits down to one.
 *
 *     db:
 *     <<<<<<< ours ["db"]["password"]
 *         password: from-main
 *     =======
 *         password: from-branch
 *     >>>>>>> theirs
 *
 * The buffer is built from two texts: the merge with ours' value at every
 * conflict and the same merge with theirs' value there. They differ only at the
 * conflicts, so a line diff of the two puts each conflict between markers, in any
 * text format (YAML, JSON, dotenv, INI), and keeping either side of every hunk
 * gives back a text the format's parser reads: it is one of the two emitted files,
 * line for line, around the hunks.
 *
 * Markers are whole lines git users know. A value that itself holds a line of
 * seven `<`, `=` or `>` would be taken for one, so the markers grow (as git's
 * `conflict-marker-size`) until no line of either text starts like them.
 */

export interface ConflictBuffer {
    readonly text: string
    /** The length of the marker runs (7 unless the texts hold lines like markers). */
    readonly markerSize: number
    /** How many hunks the buffer has. */
    readonly hunks: number
}

/** Past this many differing lines the diff stops looking and makes one hunk of the middle. */
const MAX_EDIT_DISTANCE = 2000

/**
 * A name for the hunk that replaces ours' lines [start, end) (0-based; start ===
 * end for lines only theirs has), put after `ours` on its opening marker.
 */
export type HunkLabel = (start: number, end: number) => string | undefined

/** The buffer for two texts that differ only where the conflicts are. */
export function conflictBuffer(ours: string, theirs: string, label?: HunkLabel): ConflictBuffer {
    const a = splitLines(ours)
    const b = splitLines(theirs)
    const markerSize = markerSizeFor([...a, ...b])
    const open = `${"<".repeat(markerSize)} ours`
    const middle = `${"=".repeat(markerSize)}\n`
    const close = `${">".repeat(markerSize)} theirs\n`
    const out: string[] = []
    let hunks = 0
    let line = 0 // ours' line index
    for (const part of diffLines(a, b)) {
        if (part.kind === "same") {
            for (const l of part.lines) out.push(l)
            line += part.lines.length
            continue
        }
        hunks++
        const name = label?.(line, line + part.ours.length)
        // A label is one line: a key with a line break in it must not end the marker line.
        out.push(`${open}${name === undefined ? "" : ` ${name.replace(/[\r\n]+/g, " ")}`}\n`)
        line += part.ours.length
        for (const l of part.ours) out.push(withNewline(l))
        out.push(middle)
        for (const l of part.theirs) out.push(withNewline(l))
        out.push(close)
    }
    return { text: out.join(""), markerSize, hunks }
}

/** 1-based numbers of the lines of `text` that are markers of this size. */
export function remainingMarkers(text: string, markerSize: number): number[] {
    const out: number[] = []
    const lines = text.split("\n")
    for (let i = 0; i < lines.length; i++) {
        if (isMarker(lines[i]!.replace(/\r$/, ""), markerSize)) out.push(i + 1)
    }
    return out
}

function isMarker(line: string, size: number): boolean {
    for (const c of ["<", "=", ">"]) {
        const run = c.repeat(size)
        if (line === run || (line.startsWith(run) && line[size] === " ")) return true
    }
    return false
}

/** 7, or longer while some line starts with a run of that many `<`, `=` or `>`. */
function markerSizeFor(lines: readonly string[]): number {
    let size = 7
    for (const line of lines) {
        const m = /^(<+|=+|>+)/.exec(line)
        if (m !== null && m[1]!.length >= size) size = m[1]!.length + 1
    }
    return size
}

function withNewline(line: string): string {
    return line.endsWith("\n") ? line : line + "\n"
}

/** Lines with their line ends kept, so that joining them gives the text back. */
function splitLines(text: string): string[] {
    const out: string[] = []
    let start = 0
    for (;;) {
        const i = text.indexOf("\n", start)
        if (i < 0) break
        out.push(text.slice(start, i + 1))
        start = i + 1
    }
    if (start < text.length) out.push(text.slice(start))
    return out
}

/**
 * Ours' line ranges [start, end) that differ from `theirs` (0-based, end exclusive;
 * an empty range where theirs has lines that ours has not): where one conflict's
 * value sits in ours' text, to name the buffer's hunks.
 */
export function changedRanges(ours: string, theirs: string): [number, number][] {
    const out: [number, number][] = []
    let line = 0
    for (const part of diffLines(splitLines(ours), splitLines(theirs))) {
        if (part.kind === "same") line += part.lines.length
        else {
            out.push([line, line + part.ours.length])
            line += part.ours.length
        }
    }
    return out
}

export type DiffPart =
    | { readonly kind: "same"; readonly lines: string[] }
    | { readonly kind: "change"; readonly ours: string[]; readonly theirs: string[] }

/**
 * A line diff (Myers' O(ND) greedy algorithm): runs of equal lines and hunks of
 * changed ones. The texts of a conflict buffer differ in a few lines, so D is
 * small; past MAX_EDIT_DISTANCE the middle between the common head and tail
 * becomes one hunk rather than costing time and memory.
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffPart[] {
    let head = 0
    while (head < a.length && head < b.length && a[head] === b[head]) head++
    let tail = 0
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
    const midA = a.slice(head, a.length - tail)
    const midB = b.slice(head, b.length - tail)
    const ops = editScript(midA, midB) ?? [...midA.map(() => "-" as const), ...midB.map(() => "+" as const)]
    const parts: DiffPart[] = []
    const same = (lines: readonly string[]) => {
        if (lines.length === 0) return
        const last = parts[parts.length - 1]
        if (last?.kind === "same") last.lines.push(...lines)
        else parts.push({ kind: "same", lines: [...lines] })
    }
    same(a.slice(0, head))
    let i = 0
    let j = 0
    let change: { kind: "change"; ours: string[]; theirs: string[] } | undefined
    for (const op of ops) {
        if (op === "=") {
            change = undefined
            same([midA[i]!])
            i++
            j++
        } else {
            if (change === undefined) {
                change = { kind: "change", ours: [], theirs: [] }
                parts.push(change)
            }
            if (op === "-") change.ours.push(midA[i++]!)
            else change.theirs.push(midB[j++]!)
        }
    }
    same(a.slice(a.length - tail))
    return parts
}

/** The edit script turning a into b ("=" keep, "-" drop from a, "+" add from b), or undefined when too long. */
function editScript(a: readonly string[], b: readonly string[]): ("=" | "-" | "+")[] | undefined {
    const n = a.length
    const m = b.length
    const max = Math.min(n + m, MAX_EDIT_DISTANCE)
    const offset = max + 1
    const v = new Int32Array(2 * max + 3)
    const trace: Int32Array[] = []
    for (let d = 0; d <= max; d++) {
        trace.push(v.slice())
        for (let k = -d; k <= d; k += 2) {
            let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1
            let y = x - k
            while (x < n && y < m && a[x] === b[y]) {
                x++
                y++
            }
            v[offset + k] = x
            if (x >= n && y >= m) return backtrack(trace, offset, n, m, d)
        }
    }
    return undefined
}

function backtrack(trace: readonly Int32Array[], offset: number, n: number, m: number, dEnd: number): ("=" | "-" | "+")[] {
    const ops: ("=" | "-" | "+")[] = []
    let x = n
    let y = m
    for (let d = dEnd; d > 0; d--) {
        const v = trace[d]!
        const k = x - y
        const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
        const prevK = down ? k + 1 : k - 1
        const prevX = v[offset + prevK]!
        const prevY = prevX - prevK
        while (x > prevX && y > prevY) {
            ops.push("=")
            x--
            y--
        }
        ops.push(down ? "+" : "-")
        x = prevX
        y = prevY
    }
    while (x > 0 && y > 0) {
        ops.push("=")
        x--
        y--
    }
    return ops.reverse()
}
