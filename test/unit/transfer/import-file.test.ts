/**
 * importInto's check hook (src/transfer/import-file.ts): on an existing file it sees
 * the documents before and after the import, runs on a dry run and when nothing
 * changes too, and a check that throws leaves the file byte for byte as it was.
 * The CLI puts set's creation-rule checks there (test/e2e/import-checks.test.ts).
 * Real age keys and a real encrypted file in a temp dir.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import type { Branch } from "../../../src/core/tree.js"
import { entry, map, str } from "../../../src/core/tree.js"
import { encryptNew } from "../../../src/engine/seal.js"
import { ExitCode, SecretsError } from "../../../src/errors.js"
import type { Io } from "../../../src/files/io.js"
import { generateX25519Identity } from "../../../src/keys/age.js"
import { loadStore } from "../../../src/stores/index.js"
import { importInto, type ImportIntoOptions } from "../../../src/transfer/import-file.js"
import { caught } from "../../helpers/errors.js"
import { treeToJs } from "../../helpers/tree-to-js.js"
import { tempDir } from "../../helpers/tmp.js"

async function fixture() {
    const dir = tempDir()
    const pair = await generateX25519Identity()
    const sink = { write: () => true }
    const io: Io = { cwd: dir, env: { SOPS_AGE_KEY: pair.identity }, stdin: new PassThrough(), stdout: sink, stderr: sink, now: () => new Date(0) }
    const store = await loadStore("yaml")
    const bytes = await encryptNew([map(entry("A", str("1")))], store, { groups: [[pair.recipient]] }, new Date(0))
    writeFileSync(join(dir, "app.yaml"), bytes)
    const seen: { before: unknown[]; after: unknown[] }[] = []
    const opts = (extra: Partial<ImportIntoOptions> = {}): ImportIntoOptions => ({
        at: [],
        deleteMissing: false,
        dryRun: false,
        modify: {},
        overrides: {},
        check: (_opened, _store, before: readonly Branch[], after: readonly Branch[]) => {
            seen.push({ before: before.map(treeToJs), after: after.map(treeToJs) })
        },
        ...extra,
    })
    return { dir, io, pair, seen, opts, read: () => readFileSync(join(dir, "app.yaml")) }
}

describe("importInto's check hook", () => {
    it("sees the documents before and after, on a real import, a dry run and one that changes nothing", async () => {
        const f = await fixture()
        const dry = await importInto(f.io, "app.yaml", map(entry("B", str("2"))), f.opts({ dryRun: true }))
        expect(dry.written).toBe(false)
        expect(f.seen).toEqual([{ before: [{ A: "1" }], after: [{ A: "1", B: "2" }] }])

        const real = await importInto(f.io, "app.yaml", map(entry("B", str("2"))), f.opts())
        expect(real.written).toBe(true)
        const same = await importInto(f.io, "app.yaml", map(entry("B", str("2"))), f.opts())
        expect(same.written).toBe(false)
        expect(f.seen.slice(1)).toEqual([
            { before: [{ A: "1" }], after: [{ A: "1", B: "2" }] },
            { before: [{ A: "1", B: "2" }], after: [{ A: "1", B: "2" }] },
        ])
    })

    it("a check that throws stops the import, dry run or not, and the file is untouched", async () => {
        const f = await fixture()
        const before = f.read()
        const refuse = () => {
            throw new SecretsError(ExitCode.Generic, "refused")
        }
        for (const dryRun of [false, true]) {
            const e = await caught(importInto(f.io, "app.yaml", map(entry("B", str("2"))), f.opts({ dryRun, check: refuse })))
            expect(e.message).toContain("refused")
            expect(f.read()).toEqual(before)
        }
    })

    it("is not run for a new file, which is made with its creation rule", async () => {
        const f = await fixture()
        const out = await importInto(f.io, "new.yaml", map(entry("B", str("2"))), f.opts({ overrides: { recipients: [f.pair.recipient] } }))
        expect(out.created).toBe(true)
        expect(existsSync(join(f.dir, "new.yaml"))).toBe(true)
        expect(f.seen).toEqual([])
    })
})
