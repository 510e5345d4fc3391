/**
 * Reading a whole file of any size a Buffer can hold. fs.readFile refuses files of
 * 2 GiB and more (ERR_FS_FILE_TOO_LARGE), but the encrypted form of a large binary
 * file is 4/3 of it (input-limits.ts MAX_BINARY_ENCRYPTED_BYTES), and Node 20's
 * Buffers hold up to 4 GiB.
 */
import { open } from "node:fs/promises"

/** The bytes of `path`, expected to be about `size` bytes long (a file that grows is read to its end). */
export async function readWhole(path: string, size: number): Promise<Buffer> {
    const fh = await open(path, "r")
    try {
        let buf = Buffer.allocUnsafe(size)
        let filled = 0
        for (;;) {
            if (filled === buf.length) {
                // The file grew since its stat: read on into a larger buffer.
                const grown = Buffer.allocUnsafe(buf.length + (1 << 20))
                buf.copy(grown, 0, 0, filled)
                buf = grown
            }
            const { bytesRead } = await fh.read(buf, filled, Math.min(buf.length - filled, 1 << 30), filled)
            if (bytesRead === 0) return buf.subarray(0, filled)
            filled += bytesRead
        }
    } finally {
        await fh.close()
    }
}
