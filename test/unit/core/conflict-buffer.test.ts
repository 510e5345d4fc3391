/**
 * The editor buffer of `secrets git resolve` (src/core/conflict-buffer.ts): the
 * line diff's laws on random texts (keeping one side of every hunk gives that
 * side's text back), the buffer's exact form, markers that grow past lines that
 * look like them, and buffers of real YAML and JSON stores where either choice,
 * or a mix, parses.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { changedRanges, conflictBuffer, diffLines, remainingMarkers } from "../../../src/core/conflict-buffer.js"
import { entry, int, map, str } from "../../../src/core/tree.js"
import { loadStore } from "../../../src/stores/index.js"

/** The buffer with every hunk resolved to one side (or, per hunk, by `pick`). */
function choose(buffer: string, size: number, pick: (hunk: number) => "ours" | "theirs"): string {
    const open = "<".repeat(size) + " ours"
    const middle = "=".repeat(size)
    const close = ">".repeat(size) + " theirs"
    const out: string[] = []
    let side: "none" | "ours" | "theirs" = "none"
    let hunk = -1
    for (const line of buffer.split(/(?<=\n)/)) {
        const bare = line.replace(/\n$/, "")
        if (bare === open) {
            side = "ours"
            hunk++
        } else if (bare === middle && side === "ours") side = "theirs"
        else if (bare === close && side === "theirs") side = "none"
        else if (side === "none" || side === pick(hunk)) out.push(line)
    }
    return out.join("")
}

const lines = fc.array(fc.constantFrom("a\n", "b\n", "c\n", "d\n", "<<<<<<< x\n", "=======\n"), { maxLength: 30 })

describe("diffLines", () => {
    it("splits two texts into shared runs and hunks that rebuild each side", () => {
        fc.assert(
            fc.property(lines, lines, (a, b) => {
                const parts = diffLines(a, b)
                const ours = parts.flatMap((p) => (p.kind === "same" ? p.lines : p.ours))
                const theirs = parts.flatMap((p) => (p.kind === "same" ? p.lines : p.theirs))
                expect(ours).toEqual(a)
                expect(theirs).toEqual(b)
                // Minimal enough: no hunk is empty on both sides, no two hunks touch.
                for (let i = 0; i < parts.length; i++) {
                    const p = parts[i]!
                    if (p.kind === "change") expect(p.ours.length + p.theirs.length).toBeGreaterThan(0)
                    if (i > 0) expect(p.kind === "change" && parts[i - 1]!.kind === "change").toBe(false)
                }
            }),
        )
    })
})

describe("conflictBuffer", () => {
    it("keeping ours' or theirs' side of every hunk gives that text back, and no marker remains", () => {
        fc.assert(
            fc.property(lines, lines, (a, b) => {
                const ours = a.join("")
                const theirs = b.join("")
                const buf = conflictBuffer(ours, theirs)
                expect(choose(buf.text, buf.markerSize, () => "ours")).toBe(ours)
                expect(choose(buf.text, buf.markerSize, () => "theirs")).toBe(theirs)
                expect(remainingMarkers(ours, buf.markerSize)).toEqual([])
                expect(remainingMarkers(theirs, buf.markerSize)).toEqual([])
                expect(remainingMarkers(buf.text, buf.markerSize)).toHaveLength(buf.hunks * 3)
            }),
        )
    })

    it("puts only the differing lines between markers, one hunk per conflict", () => {
        const ours = "a: 1\nb: ours-b\nc: 3\nd: 4\ne: ours-e\n"
        const theirs = "a: 1\nb: theirs-b\nc: 3\nd: 4\ne: theirs-e\n"
        const buf = conflictBuffer(ours, theirs)
        expect(buf).toEqual({
            text: "a: 1\n<<<<<<< ours\nb: ours-b\n=======\nb: theirs-b\n>>>>>>> theirs\nc: 3\nd: 4\n<<<<<<< ours\ne: ours-e\n=======\ne: theirs-e\n>>>>>>> theirs\n",
            markerSize: 7,
            hunks: 2,
        })
        expect(remainingMarkers(buf.text, 7)).toEqual([2, 4, 6, 9, 11, 13])
        expect(conflictBuffer(ours, ours)).toEqual({ text: ours, markerSize: 7, hunks: 0 })
    })

    it("a key only one side has gets an empty side; a last line without a newline gets one before the marker", () => {
        expect(conflictBuffer("a: 1\n", "a: 1\nb: 2\n").text).toBe("a: 1\n<<<<<<< ours\n=======\nb: 2\n>>>>>>> theirs\n")
        expect(conflictBuffer("x", "y").text).toBe("<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n")
    })

    it("names each hunk by the label for ours' line range it replaces; the label stays on one line", () => {
        const ours = "a: 1\nb: ours-b\nc: 3\n"
        const theirs = "a: 1\nb: theirs-b\nc: 3\nd: 4\n"
        const seen: [number, number][] = []
        const buf = conflictBuffer(ours, theirs, (start, end) => {
            seen.push([start, end])
            return start === 1 ? '["b"]' : 'line\nbreak'
        })
        expect(seen).toEqual([
            [1, 2],
            [3, 3],
        ])
        expect(buf.text).toBe('a: 1\n<<<<<<< ours ["b"]\nb: ours-b\n=======\nb: theirs-b\n>>>>>>> theirs\nc: 3\n<<<<<<< ours line break\n=======\nd: 4\n>>>>>>> theirs\n')
        expect(remainingMarkers(buf.text, 7)).toEqual([2, 4, 6, 8, 9, 11])
        expect(changedRanges(ours, theirs)).toEqual(seen)
    })

    it("markers grow past lines of the texts that start like them, and only the real ones count as left", () => {
        const buf = conflictBuffer("note: |\n  <<<<<<<< not a marker\nv: 1\n", "note: |\n  <<<<<<<< not a marker\nv: 2\n")
        expect(buf.markerSize).toBe(7) // indented: no line starts with the run
        const flush = conflictBuffer("=======\nv: 1\n", "=======\nv: 2\n")
        expect(flush.markerSize).toBe(8)
        expect(flush.text).toBe("=======\n<<<<<<<< ours\nv: 1\n========\nv: 2\n>>>>>>>> theirs\n")
        expect(remainingMarkers(flush.text, 8)).toEqual([2, 4, 6])
        expect(remainingMarkers("=======\nv: 2\n", 8)).toEqual([])
    })
})

describe("conflict buffers of real stores", () => {
    it("YAML: either side, or one side per hunk, parses to the expected tree", async () => {
        const yaml = await loadStore("yaml")
        const ours = [map(entry("db", map(entry("password", str("ours")), entry("host", str("h")))), entry("n", int(1)), entry("mode", str("ours-mode")))]
        const theirs = [map(entry("db", map(entry("password", str("theirs")), entry("host", str("h")))), entry("n", int(1)), entry("mode", str("theirs-mode")))]
        const buf = conflictBuffer(new TextDecoder().decode(yaml.emitPlain(ours)), new TextDecoder().decode(yaml.emitPlain(theirs)))
        expect(buf.hunks).toBe(2)
        const parse = (text: string) => yaml.parsePlain(new TextEncoder().encode(text))
        expect(parse(choose(buf.text, 7, () => "theirs"))).toEqual(theirs)
        expect(parse(choose(buf.text, 7, () => "ours"))).toEqual(ours)
        const mixed = parse(choose(buf.text, 7, (h) => (h === 0 ? "theirs" : "ours")))
        expect(mixed).toEqual([map(entry("db", map(entry("password", str("theirs")), entry("host", str("h")))), entry("n", int(1)), entry("mode", str("ours-mode")))])
    })

    it("JSON: a key deleted on one side (the comma before it changes too) still parses either way", async () => {
        const json = await loadStore("json")
        const ours = [map(entry("a", str("1")), entry("b", str("ours-b")))]
        const theirs = [map(entry("a", str("1")))]
        const buf = conflictBuffer(new TextDecoder().decode(json.emitPlain(ours)), new TextDecoder().decode(json.emitPlain(theirs)))
        const parse = (text: string) => json.parsePlain(new TextEncoder().encode(text))
        expect(parse(choose(buf.text, 7, () => "ours"))).toEqual(ours)
        expect(parse(choose(buf.text, 7, () => "theirs"))).toEqual(theirs)
        expect(() => parse(buf.text)).toThrow()
    })
})
