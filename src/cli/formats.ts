/**
 * Input and output formats of a command (sops-format.md §7): `--input-type` /
 * `--output-type`, else the file's extension, where `--filename-override` stands in
 * for the file name. The output format defaults to the input's.
 */
import { ExitCode, SecretsError } from "../errors.js"
import { formatForPath, type Format } from "../stores/store.js"

export interface Formats {
    readonly input: Format
    readonly output: Format
}

export function resolveFormats(opts: {
    file?: string
    filenameOverride?: string
    inputType?: Format
    outputType?: Format
}): Formats {
    const name = opts.filenameOverride ?? opts.file
    if (opts.inputType === undefined && name === undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "reading stdin needs --input-type or --filename-override to know the format")
    }
    const input = opts.inputType ?? formatForPath(name ?? "")
    return { input, output: opts.outputType ?? input }
}
