/**
 * Bounds on the work a hostile file can make us do: how deep its mappings and lists
 * may nest, and how far YAML aliases may multiply it. Both are checked while a file
 * is read, so a "billion laughs" file or a file of 100,000 `[` fails with one clear
 * line, in bounded time and memory, before anything walks the tree.
 */
import { ExitCode, FormatError } from "../errors.js"

/**
 * The deepest nesting of mappings and lists a document may have (the top-level
 * mapping is level 1). sops takes up to 10,000 (encoding/json's and go-yaml's
 * limits), but Go grows its stacks and JavaScript does not: the `yaml` package's
 * composer runs out of stack at about 800 levels, and our walkers recurse too.
 * 500 leaves every one of them room, and is far beyond any real secrets file.
 */
export const MAX_NESTING_DEPTH = 500

/**
 * A file that breaks one of these bounds. A FormatError like any other malformed
 * input (the same exit code); its own class so that commands which treat an
 * unreadable file as "not encrypted" (`filestatus`, the fleet inventory) can still
 * report this one instead of hiding it.
 */
export class InputLimitError extends FormatError {
    constructor(message: string, hints: readonly string[] = [], code: ExitCode = ExitCode.Generic) {
        super(message, hints, code)
        this.name = "InputLimitError"
    }
}

const MiB = 1024 * 1024

/**
 * The largest file secrets reads as text (any structured format, and a binary file
 * that is not in the plain shape secrets and sops write). Such a file is decoded
 * into one JavaScript string, and V8 cannot make a string of more than 2^29 - 24
 * characters (512 MiB): above that Node fails deep inside. Parsing a huge YAML or
 * JSON text is also what a hostile file would use to exhaust memory. Checked
 * before reading.
 */
export const MAX_INPUT_BYTES = 500 * MiB

/**
 * The largest binary file secrets encrypts. A binary file is kept as bytes, never
 * as one string (engine/binary-file.ts), and takes about 2.4× its size in memory
 * (the plaintext and the ciphertext's base64 at once). The bound is the encrypted
 * file, 4/3 of this, which must fit in one Buffer (4 GiB in Node 20) with room to
 * spare: 2 GiB makes a 2.7 GiB encrypted file and needs about 5 GiB of memory.
 */
export const MAX_BINARY_BYTES = 2048 * MiB

/**
 * The largest encrypted binary file secrets reads: the base64 of a MAX_BINARY_BYTES
 * file plus 16 MiB for its metadata. Only a file in the plain binary shape gets
 * past MAX_INPUT_BYTES with this; any other is refused at MAX_INPUT_BYTES.
 */
export const MAX_BINARY_ENCRYPTED_BYTES = Math.ceil(MAX_BINARY_BYTES / 3) * 4 + 16 * MiB

/** A file larger than `limit` (MAX_INPUT_BYTES); `what` names it (quoted), sops' exit code for an unreadable input. */
export function inputTooLarge(what: string, size: number, limit: number = MAX_INPUT_BYTES): InputLimitError {
    return new InputLimitError(
        `${what} is larger than ${Math.floor(limit / MiB)} MiB, the most secrets reads (it has ${size} bytes)`,
        ["encrypt a file this large with age directly (age -r RECIPIENT), or split it"],
        ExitCode.CouldNotReadInputFile,
    )
}

/** A binary plaintext larger than MAX_BINARY_BYTES. */
export function binaryTooLarge(size: number): InputLimitError {
    return new InputLimitError(
        `the binary file is larger than ${MAX_BINARY_BYTES / MiB} MiB, the most secrets encrypts (it has ${size} bytes)`,
        ["encrypt a file this large with age directly (age -r RECIPIENT), or split it"],
        ExitCode.CouldNotReadInputFile,
    )
}

/** The error for a document nested deeper than MAX_NESTING_DEPTH; `where` is e.g. "at line 3". */
export function nestedTooDeeply(format: "YAML" | "JSON", where: string): InputLimitError {
    return new InputLimitError(`${format} nested too deeply ${where} (more than ${MAX_NESTING_DEPTH} levels of mappings and lists)`)
}

// go-yaml v3 decode.go: the share of decoded nodes that may come from expanding
// aliases falls from 99% to 10% as a document grows from 400,000 to 4,000,000 nodes.
const ALIAS_RATIO_RANGE_LOW = 400_000
const ALIAS_RATIO_RANGE_HIGH = 4_000_000

/** go-yaml v3's `allowedAliasRatio`. */
export function allowedAliasRatio(decodeCount: number): number {
    if (decodeCount <= ALIAS_RATIO_RANGE_LOW) return 0.99
    if (decodeCount >= ALIAS_RATIO_RANGE_HIGH) return 0.1
    return 0.99 - 0.89 * ((decodeCount - ALIAS_RATIO_RANGE_LOW) / (ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW))
}

/**
 * go-yaml v3's cap on alias expansion ("document contains excessive aliasing"),
 * counted the way its decoder counts: one decode per node reached (the document,
 * each key, each value, each alias), and an aliased one for every node reached
 * inside an alias's expansion. Once more than 100 of over 1,000 decodes are aliased
 * and their share passes `allowedAliasRatio`, reading stops. A 2 KB file whose
 * anchors nest nine deep would otherwise expand to hundreds of millions of nodes.
 */
export class AliasBudget {
    private decodes = 0
    private aliased = 0

    /** Count one decoded node; `viaAlias` when it is reached through an alias. */
    count(viaAlias: boolean): void {
        this.decodes++
        if (viaAlias) this.aliased++
        if (this.aliased > 100 && this.decodes > 1000 && this.aliased / this.decodes > allowedAliasRatio(this.decodes)) {
            throw new InputLimitError("excessive aliasing in YAML: its aliases expand to far more than the file itself holds", [
                "an alias repeats its anchor's whole value, so anchors built from aliases of other anchors multiply (a \"billion laughs\" file)",
            ])
        }
    }
}
