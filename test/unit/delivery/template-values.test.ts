/**
 * resolveReferences with the seams deploy uses (openFile, op): which files are
 * opened and how often, what a scalar becomes as text, and which values are refused.
 * Real files on disk (the path checks use realpath); the decryption itself is the
 * openFile hook here, the e2e test (test/e2e/render.test.ts) runs the real one.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"

import { bool, bytes, entry, float, int, map, str, time, type Branch } from "../../../src/core/tree.js"
import { parseTemplate } from "../../../src/delivery/template.js"
import { resolveReferences } from "../../../src/delivery/template-values.js"
import type { OpenedFile } from "../../../src/engine/open.js"
import type { Io } from "../../../src/files/io.js"
import { OpError } from "../../../src/integrations/op-errors.js"
import type { OpClient } from "../../../src/integrations/op-types.js"
import type { Store } from "../../../src/stores/store.js"
import { caught } from "../../helpers/errors.js"
import { tempDir } from "../../helpers/tmp.js"

function ioAt(cwd: string): Io {
    const sink = { write: () => true }
    return { cwd, env: {}, stdin: new PassThrough(), stdout: sink, stderr: sink, now: () => new Date(0) }
}

/** An openFile hook that "decrypts" every file to `doc` and records what it was asked to open. */
function fakeOpen(doc: Branch) {
    const calls: { name: string; format: string }[] = []
    const openFile = async (name: string, _input: Uint8Array, store: Store): Promise<OpenedFile> => {
        calls.push({ name, format: store.format })
        return { branches: [doc] } as unknown as OpenedFile
    }
    return { calls, openFile }
}

function fakeOp(values: Record<string, string>) {
    const reads: string[] = []
    const client = {
        read: async (ref: string) => {
            reads.push(ref)
            const v = values[ref]
            if (v === undefined) throw new OpError("item-not-found", `1Password item not found (needed for "${ref}")`)
            return v
        },
    } as unknown as OpClient
    return { reads, client }
}

const DOC = map(
    entry("s", str("text")),
    entry("i", int(5432n)),
    entry("f", float(1)),
    entry("b", bool(false)),
    entry("t", time("2024-01-02T03:04:05Z")),
    entry("raw", bytes(new Uint8Array([0xff, 0xfe, 0x00]))),
)

async function render(dir: string, text: string, opts: { baseDir?: string; op?: OpClient; doc?: Branch } = {}) {
    const parsed = parseTemplate(text, "t.tmpl")
    const hook = fakeOpen(opts.doc ?? DOC)
    const values = await resolveReferences(ioAt(dir), parsed.references, {
        baseDir: opts.baseDir ?? ".",
        openFile: hook.openFile,
        ...(opts.op !== undefined ? { op: opts.op } : {}),
    })
    return { out: parsed.render(values), calls: hook.calls }
}

describe("resolveReferences", () => {
    it("opens a file once however it is named (./, a/.., a symbolic link inside the base directory)", async () => {
        const dir = tempDir()
        mkdirSync(join(dir, "repo/sub"), { recursive: true })
        writeFileSync(join(dir, "repo/app.yaml"), "not read by the fake\n")
        symlinkSync("app.yaml", join(dir, "repo/link.yaml"))
        const { out, calls } = await render(dir, '{{ ./app.yaml#["s"] }} {{ app.yaml#["i"] }} {{ sub/../app.yaml#["b"] }} {{ link.yaml#["f"] }}', { baseDir: "repo" })
        expect(out).toBe("text 5432 false 1.0")
        // The name as the first placeholder wrote it, without "./" (deploy caches by it); its suffix picks the store.
        expect(calls).toEqual([{ name: "app.yaml", format: "yaml" }])
    })

    it("writes scalars as sops writes them into dotenv: ints, floats with .0, bools, times", async () => {
        const dir = tempDir()
        writeFileSync(join(dir, "v.json"), "{}")
        const { out, calls } = await render(dir, '{{ v.json#["i"] }}|{{ v.json#["f"] }}|{{ v.json#["b"] }}|{{ v.json#["t"] }}')
        expect(out).toBe("5432|1.0|false|2024-01-02T03:04:05Z")
        expect(calls).toEqual([{ name: "v.json", format: "json" }])
    })

    it("refuses a value that is not UTF-8 text", async () => {
        const dir = tempDir()
        writeFileSync(join(dir, "v.yaml"), "")
        const e = await caught(render(dir, 'x{{ v.yaml#["raw"] }}'))
        expect(e.message).toBe('t.tmpl:1:2: {{ v.yaml#["raw"] }}: the value is not UTF-8 text and cannot go into a template')
    })

    it("checks every path before opening any file", async () => {
        const dir = tempDir()
        writeFileSync(join(dir, "v.yaml"), "")
        const parsed = parseTemplate('{{ v.yaml#["s"] }}\n{{ ../x.yaml#["s"] }}', "t.tmpl")
        const hook = fakeOpen(DOC)
        const e = await caught(resolveReferences(ioAt(dir), parsed.references, { baseDir: dir, openFile: hook.openFile }))
        expect(e.message).toBe('t.tmpl:2:1: {{ ../x.yaml#["s"] }}: the path leads out of the base directory')
        expect(hook.calls).toEqual([])
    })

    it("reads each op reference once and names the placeholder when op fails", async () => {
        const dir = tempDir()
        const op = fakeOp({ "op://v/i/a": "A" })
        const { out } = await render(dir, "{{op://v/i/a}}-{{ op://v/i/a }}", { op: op.client })
        expect(out).toBe("A-A")
        expect(op.reads).toEqual(["op://v/i/a"])

        const failing = fakeOp({})
        const e = await caught(render(dir, "ok\n  {{ op://v/i/missing }}", { op: failing.client }))
        expect(e.message).toBe('t.tmpl:2:3: 1Password item not found (needed for "op://v/i/missing")')
    })
})
