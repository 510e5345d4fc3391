/**
 * Input and output formats of a command (sops-format.md §7).
 *
 * sops (cmd/sops/main.go inputStore/outputStore, formats.FormatForPathOrString)
 * chooses each store on its own from one name, `--filename-override` if given,
 * else the file argument:
 *
 * - input:  `--input-type`, else the name's extension;
 * - output: `--output-type`, else the name's extension. The input type does not
 *   carry over: `decrypt --input-type json z.yaml` prints YAML, and
 *   `set --output-type yaml f.json` rewrites f.json as YAML (sops' functional
 *   tests set_json_file_update_idempotent_*).
 *
 * The `--output` path plays no part, in sops or here: `decrypt a.yaml --output
 * a.json` writes YAML; `--output-type json` converts.
 *
 * One deliberate difference: when the name has no extension we know (stdin, or
 * `x.enc`), sops falls back to its binary store, which cannot print a YAML or JSON
 * tree ("error emitting binary store"); we use the input format instead, so
 * `decrypt --input-type yaml x.enc` prints YAML rather than failing.
 */
import { ExitCode, SecretsError } from "../errors.js"
import { formatForPath, type Format } from "../stores/store.js"

export interface Formats {
    readonly input: Format
    readonly output: Format
}

export function resolveFormats(opts: {
    file?: string | undefined
    filenameOverride?: string | undefined
    inputType?: Format | undefined
    outputType?: Format | undefined
}): Formats {
    const name = opts.filenameOverride ?? opts.file
    if (opts.inputType === undefined && name === undefined) {
        throw new SecretsError(ExitCode.ConflictingParameters, "reading stdin needs --input-type or --filename-override to know the format")
    }
    const input = opts.inputType ?? formatForPath(name ?? "")
    return { input, output: opts.outputType ?? formatNamedBy(name) ?? input }
}

/** The format a file name's extension names; undefined when it names none (binary is the default, not an extension). */
function formatNamedBy(name: string | undefined): Format | undefined {
    if (name === undefined) return undefined
    const format = formatForPath(name)
    return format === "binary" ? undefined : format
}
