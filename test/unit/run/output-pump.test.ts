/**
 * The pump that carries a child's output through the masker into ours
 * (src/integrations/run-program.ts): every byte arrives, in order, masked, when
 * the destination pushes back; and a destination that breaks (the reader went
 * away) closes the source, so the child meets a closed pipe as it would without
 * masking.
 */
import { PassThrough, Readable, Writable } from "node:stream"
import { describe, expect, it } from "vitest"
import { pump } from "../../../src/integrations/run-program.js"
import { buildMatcher, CONCEALED, Masker } from "../../../src/run/masker.js"

describe("output pump", () => {
    it("delivers everything in order through a destination that pushes back, and pauses the source meanwhile", async () => {
        const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} token=hunter2-value end\n`)
        const source = Readable.from(lines.map((l) => Buffer.from(l)), { objectMode: false })
        const got: Buffer[] = []
        let pausedWhileBusy = 0
        // Takes each write on the next turn, with a 1 KiB buffer: write() keeps returning false.
        const slow = new Writable({
            highWaterMark: 1024,
            write(chunk: Buffer, _enc, done) {
                if (source.isPaused()) pausedWhileBusy++
                got.push(chunk)
                setImmediate(done)
            },
        })
        await pump(source, new Masker(buildMatcher(["hunter2-value"])), slow)
        expect(Buffer.concat(got).toString()).toBe(lines.map((l) => l.replace("hunter2-value", CONCEALED)).join(""))
        expect(pausedWhileBusy).toBeGreaterThan(0)
    })

    it("writes the bytes the masker held back when the source ends", async () => {
        const got: Buffer[] = []
        const sink = new Writable({ write: (c: Buffer, _e, done) => (got.push(c), done()) })
        // "hunter" could still become the value until the end says it will not.
        await pump(Readable.from([Buffer.from("say hunter")]), new Masker(buildMatcher(["hunter2-value"])), sink)
        expect(Buffer.concat(got).toString()).toBe("say hunter")
    })

    it("closes the source when the destination breaks, and settles", async () => {
        const source = new PassThrough()
        const sink = new Writable({ write: (_c, _e, done) => done(new Error("EPIPE")) })
        sink.on("error", () => {})
        const done = pump(source, new Masker(buildMatcher(["x-secret"])), sink)
        source.write("first write breaks the destination\n")
        await done
        expect(source.destroyed).toBe(true)
    })

    it("closes the source at once when the destination is already broken", async () => {
        const source = new PassThrough()
        const sink = new Writable({ write: (_c, _e, done) => done() })
        sink.destroy()
        await pump(source, new Masker(buildMatcher(["x-secret"])), sink)
        expect(source.destroyed).toBe(true)
    })
})
