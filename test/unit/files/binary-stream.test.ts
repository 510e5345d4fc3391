/**
 * files/binary-stream.ts: an encrypted binary file may pass the 500 MiB text limit
 * only in the plain shape the byte path reads; any other goes to the general path
 * (JSON text), where the limit still holds.
 */
import { Readable } from "node:stream"
import { describe, expect, it } from "vitest"
import { InputLimitError, MAX_INPUT_BYTES } from "../../../src/core/input-limits.js"
import { ExitCode } from "../../../src/errors.js"
import type { Io } from "../../../src/files/io.js"
import { openBinaryInput } from "../../../src/files/binary-stream.js"
import { createBinaryStore } from "../../../src/stores/binary.js"

const io: Io = {
    cwd: "/",
    env: {},
    stdin: Readable.from([]),
    stdout: { write: () => true },
    stderr: { write: () => true },
    now: () => new Date(),
}

describe("openBinaryInput", () => {
    it("a file not in the plain shape and over the text limit is refused with the text limit's message", async () => {
        // calloc'd: all zeros, no page is written (reading them maps the zero page).
        const input = new Uint8Array(MAX_INPUT_BYTES + 1)
        const e = await openBinaryInput(io, "big.bin", input, createBinaryStore(), {}).catch((x: unknown) => x)
        expect(e).toBeInstanceOf(InputLimitError)
        expect((e as InputLimitError).code).toBe(ExitCode.CouldNotReadInputFile)
        expect((e as InputLimitError).message).toBe(`"big.bin" is larger than 500 MiB, the most secrets reads (it has ${MAX_INPUT_BYTES + 1} bytes)`)
    })

    it("a small file not in the plain shape goes to the general path (null), whatever it holds", async () => {
        for (const text of ["", "{}", '{"data": "x"}', "not json", '{"data": "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]", "sops": 1}']) {
            expect(await openBinaryInput(io, "f.bin", new TextEncoder().encode(text), createBinaryStore(), {})).toBeNull()
        }
    })
})
