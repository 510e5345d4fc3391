/**
 * Large files through the built binary (issue 14): a 100 MiB binary file makes one
 * round trip byte for byte (it used to crash V8), and a file above the read limit
 * is refused with one line and exit 2 before it is read. One round trip only: the
 * suite's time matters, and the unit tests cover the cases.
 */
import { createHash, randomBytes } from "node:crypto"
import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from "node:fs"
import { freemem, totalmem } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { MAX_INPUT_BYTES } from "../../src/core/input-limits.js"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const MiB = 1024 * 1024
const SIZE = 100 * MiB
// The round trip peaks near 0.5 GiB in the child, plus the test's own buffers.
const NEEDED = 1536 * MiB
const enoughMemory = totalmem() >= 2 * NEEDED && freemem() >= NEEDED
if (!enoughMemory) {
    console.warn(`large-files: skipping the 100 MiB round trip: ${Math.round(freemem() / MiB)} MiB free of ${Math.round(totalmem() / MiB)} MiB, it needs ${NEEDED / MiB} MiB free`)
}

function sha256(path: string): string {
    return createHash("sha256").update(readFileSync(path)).digest("hex")
}

describe("large files through the built binary", () => {
    it.skipIf(!enoughMemory)(
        "a 100 MiB binary file round-trips byte for byte",
        async () => {
            const dir = tempDir()
            const key = ageKeygen(dir, "k")
            const env = { SOPS_AGE_KEY_FILE: key.file }
            // Random bytes (not UTF-8) with a BOM in front, written a MiB at a time.
            const fd = openSync(join(dir, "big.bin"), "w")
            writeSync(fd, Buffer.from([0xef, 0xbb, 0xbf]))
            for (let written = 3; written < SIZE; written += MiB) writeSync(fd, randomBytes(Math.min(MiB, SIZE - written)))
            closeSync(fd)

            const enc = await runCli(["encrypt", "--age", key.recipient, "--output", "big.enc", "big.bin"], { cwd: dir, env })
            expect(enc.stderr).toBe("")
            expect(enc.code).toBe(0)
            const head = Buffer.alloc(64)
            const efd = openSync(join(dir, "big.enc"), "r")
            const { readSync } = await import("node:fs")
            readSync(efd, head, 0, 64, 0)
            closeSync(efd)
            expect(head.toString("latin1")).toMatch(/^\{\n\t"data": "ENC\[AES256_GCM,data:/)

            const dec = await runCli(["decrypt", "--output", "big.out", "big.enc"], { cwd: dir, env })
            expect(dec.stderr).toBe("")
            expect(dec.code).toBe(0)
            expect(sha256(join(dir, "big.out"))).toBe(sha256(join(dir, "big.bin")))
        },
        600_000,
    )

    it("a file above the read limit is refused before it is read: one line, exit 2, nothing written", async () => {
        const dir = tempDir()
        const key = ageKeygen(dir, "k")
        // Sparse: no disk or memory spent, and nothing reads it.
        writeFileSync(join(dir, "huge.bin"), "")
        truncateSync(join(dir, "huge.bin"), MAX_INPUT_BYTES + 1)
        for (const args of [
            ["encrypt", "--age", key.recipient, "--output", "huge.enc", "huge.bin"],
            ["decrypt", "--output", "huge.enc", "huge.bin"],
        ]) {
            const r = await runCli(args, { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file } })
            expect(r.code).toBe(2)
            expect(r.stderr).toBe(
                `secrets: error: "huge.bin" is larger than 500 MiB, the most secrets reads (it has ${MAX_INPUT_BYTES + 1} bytes)\n` +
                    "secrets: hint: encrypt a file this large with age directly (age -r RECIPIENT), or split it\n",
            )
            expect(existsSync(join(dir, "huge.enc"))).toBe(false)
        }
    })
})
