/**
 * The TAB callback's walk (src/cli/completion/sources.ts findEncryptedFiles) after
 * its start-up changes (issue 14 target 6: relative paths built during the walk, one
 * read from the start for files smaller than the 64 KiB tail) finds exactly what the
 * reference below finds, the walk as it was: path.relative per file, and fstat, then
 * a read of the last min(size, 64 KiB) bytes, for every file. Random trees of small,
 * empty, exactly-64 KiB and larger files, sops-shaped or not.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, writeFileSync } from "node:fs"
import { join, relative, sep } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { findEncryptedFiles, looksLikeSops } from "../../../src/cli/completion/sources.js"
import { tempDir } from "../../helpers/tmp.js"

const TAIL = 64 * 1024

function referenceIsSops(path: string): boolean {
    let fd: number | undefined
    try {
        fd = openSync(path, "r")
        const size = fstatSync(fd).size
        const length = Math.min(size, TAIL)
        if (length < 10) return false
        const buf = Buffer.alloc(TAIL)
        const got = readSync(fd, buf, 0, length, size - length)
        const tail = buf.subarray(0, got)
        return tail.includes("sops") && looksLikeSops(tail.toString("latin1"))
    } finally {
        if (fd !== undefined) closeSync(fd)
    }
}

function referenceFind(cwd: string): string[] {
    const found: string[] = []
    const visit = (dir: string, depth: number): void => {
        for (const d of readdirSync(dir, { withFileTypes: true })) {
            const path = join(dir, d.name)
            if (d.isDirectory()) {
                if (depth < 8 && d.name !== ".git" && d.name !== "node_modules") visit(path, depth + 1)
            } else if (d.isFile() && referenceIsSops(path)) found.push(relative(cwd, path).split(sep).join("/"))
        }
    }
    visit(cwd, 0)
    return found.sort()
}

const YAML_META = "sops:\n    lastmodified: \"2026-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:x]\n    version: 3.13.0\n"

describe("findEncryptedFiles", () => {
    it("finds what the per-file fstat-and-tail walk finds", () => {
        const body = fc.oneof(
            fc.constant(""),
            fc.constant("a: 1\n"),
            fc.constant(`a: ENC[x]\n${YAML_META}`),
            fc.constant("A=1\nsops_version=3.13.0\n"),
            // Around the 64 KiB boundary: the metadata inside or outside the last 64 KiB.
            fc.integer({ min: TAIL - 200, max: TAIL + 200 }).map((n) => "#".repeat(Math.max(0, n - YAML_META.length)) + "\n" + YAML_META),
            fc.integer({ min: TAIL - 200, max: TAIL + 200 }).map((n) => YAML_META + "#".repeat(n)),
            fc.constant("sops"),
        )
        const name = fc.constantFrom("a.yaml", "b.enc.json", "c.env", "d", "e f.yaml", "ü.yaml")
        const entry = fc.tuple(fc.constantFrom("", "x", "x/y", "z", ".git", "node_modules"), name, body)
        fc.assert(
            fc.property(fc.array(entry, { maxLength: 12 }), (entries) => {
                const dir = join(tempDir(), "repo")
                mkdirSync(dir)
                for (const [sub, file, text] of entries) {
                    mkdirSync(join(dir, sub), { recursive: true })
                    writeFileSync(join(dir, sub, file), text)
                }
                expect(findEncryptedFiles(dir)).toEqual(referenceFind(dir))
            }),
            { numRuns: 60 },
        )
    })

    it("reads the tail of a file larger than 64 KiB, not its start", () => {
        const dir = tempDir()
        writeFileSync(join(dir, "big.yaml"), "x".repeat(TAIL + 10) + "\n" + YAML_META)
        writeFileSync(join(dir, "head.yaml"), YAML_META + "x".repeat(TAIL + 10))
        expect(findEncryptedFiles(dir)).toEqual(["big.yaml"])
    })
})
