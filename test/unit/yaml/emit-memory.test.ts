/**
 * The YAML emitter's output buffer (issue 14, target 3): libyaml writes one character
 * at a time, and `out += c` kept a V8 rope of one cons string per character, ~30
 * bytes each, so encrypting 100k values peaked at 3x the RSS of a plain parse. The
 * emitter now joins characters into flat pieces; the text must not change across
 * the piece boundaries, and what stays on the heap must be about the text's size.
 */
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { entry, map, str, type MapItem } from "../../../src/core/tree.js"
import { createYamlStore } from "../../../src/stores/yaml.js"

const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

describe("the YAML emitter's output across its internal pieces", () => {
    it("a long document is the concatenation of its entries emitted one by one", () => {
        const store = createYamlStore()
        // Multi-byte, 4-byte (escaped by yaml.v3) and multi-line values, so pieces
        // of 8192 characters end inside every kind of scalar.
        const values = ["plain-ascii-value", "é€ café", "emoji 😀 here", "two\nlines", "it's: quoted", ""]
        const items: MapItem[] = []
        for (let i = 0; i < 6000; i++) items.push(entry(`key_${i}`, str(`${values[i % values.length]}${i}`)))
        const whole = dec(store.emitPlain([map(...items)]))
        const oneByOne = items.map((it) => dec(store.emitPlain([map(it)]))).join("")
        expect(whole.length).toBeGreaterThan(8192 * 10)
        expect(whole).toBe(oneByOne)
    })

    it("the emitted text of 50k values holds about its own size on the heap, not a rope of 30 bytes a character", () => {
        // A child with --expose-gc measures the heap the result keeps alive after a
        // full collection. dist/ is built by the test setup from the current src.
        const emitter = join(import.meta.dirname, "../../../dist/stores/yaml-emitter.js")
        const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", CHILD, emitter], { encoding: "utf8" })
        const { retained, chars } = JSON.parse(out) as { retained: number; chars: number }
        expect(chars).toBeGreaterThan(1_000_000)
        // Flat one-byte text is 1 byte a character; the old rope kept ~30.
        expect(retained).toBeLessThan(chars * 4)
    }, 120_000)
})

const CHILD = `
const { emitEvents } = await import(process.argv.at(-1))
const events = [{ t: "docStart", implicit: true }, { t: "mapStart", head: "" }]
for (let i = 0; i < 50000; i++) {
    const c = { head: "", line: "", foot: "", tag: "" }
    events.push({ t: "scalar", value: "key_" + i, style: "plain", ...c })
    events.push({ t: "scalar", value: "value-" + i.toString(36) + "-xxxxxxxx", style: "plain", ...c })
}
events.push({ t: "mapEnd", line: "", foot: "" }, { t: "docEnd" })
gc()
const before = process.memoryUsage().heapUsed
let text = emitEvents(events, 4)
gc()
const retained = process.memoryUsage().heapUsed - before
process.stdout.write(JSON.stringify({ retained, chars: text.length }))
`
