/**
 * `secrets set FILE INDEX VALUE`: put one JSON value into the first document of an
 * encrypted file, in place (sops-format.md §10, cmd/sops/set.go). The file keeps
 * its data key, and every value that did not change keeps its exact ciphertext
 * (the IV stash, §1), so the diff is that value's line plus `mac` and
 * `lastmodified` — minimal merge conflicts for teams mixing sops and secrets.
 * The metadata `version` is left alone, as sops' set leaves it.
 */
import { readFile } from "node:fs/promises"
import { resolve } from "node:path"
import type { Command } from "commander"
import { ExitCode, FormatError, SecretsError, quote } from "../../errors.js"
import type { Node } from "../../core/tree.js"
import { sameNode } from "../../core/same-node.js"
import type { PathStep } from "../../core/tree-path.js"
import type { OpenedFile } from "../../engine/open.js"
import type { Format, Store } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import type { Io } from "../../files/io.js"
import { info } from "../report.js"

export interface SetOptions {
    valueFile?: boolean
    valueStdin?: boolean
    idempotent?: boolean
    ignoreMac?: boolean
    inputType?: Format
    /** The format the file is rewritten in (sops' set takes --output-type too); by default the file name's. */
    outputType?: Format
    decryptionOrder?: string
    /** Write a value in clear that the file's creation rule would encrypt (see src/cli/rule-checks.ts). */
    allowClear?: boolean
}

const EXAMPLES = `
The value is JSON: '"text"' (a string needs its double quotes), 5, true, null or
{"an": "object"}. A value on the command line is visible to other users in the
process list and lands in your shell history: prefer --value-stdin or --value-file.

A value that is a 1Password secret reference, op://vault/item[/section]/field (also
from --value-file or --value-stdin, surrounding whitespace ignored), is read with
op read and its text is stored as a string; the value itself never shows. To store
the text "op://…" literally, give it as a JSON string: '"op://Dev/db/password"'.

Examples:
  printf '%s' "$TOKEN" | jq -Rs . | secrets set --value-stdin secrets.yaml '["api"]["token"]'
  secrets set secrets.yaml '["db"]["password"]' op://Prod/db/password
  secrets set --value-file secrets.yaml '["tls"]' cert.json
  secrets set secrets.yaml '["db"]["port"]' 5432
`

export function registerSet(program: Command, ctx: CommandContext): void {
    program
        .command("set")
        .description("set one value in an encrypted file (other values keep their ciphertext)")
        .argument("[file]", "the encrypted file")
        .argument("[index]", `where to put the value, e.g. '["db"]["password"]' or '["hosts"][0]'`)
        .argument("[value]", "the JSON value (or, with --value-file, the file holding it)")
        .option("--value-file", "read the JSON value from the file named by the VALUE argument (keeps it off the command line)")
        .option("--value-stdin", "read the JSON value from stdin; takes no VALUE argument (keeps it off the command line)")
        .option("--idempotent", "do not write the file when the value is already there")
        .option("--allow-clear", "write the value even if it lands in clear where the file's creation rule would encrypt it")
        .addOption(o.ignoreMac())
        .addOption(o.inputType())
        .addOption(o.outputType())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        // sops counts the arguments itself and exits 100 on a wrong count.
        .allowExcessArguments()
        .addHelpText("after", EXAMPLES)
        .action(async (_file: unknown, _index: unknown, _value: unknown, _opts: SetOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<SetOptions & o.GlobalOpts>(), ctx.io.env)
            const args = [...cmd.args]
            await ctx.dispatch("set", args, opts, () => runSetCommand(o.withIdentityOptions(ctx, opts, args[0]), args, opts))
        })
}

/** The command as the user typed it: check the arguments, fetch the value, run. */
async function runSetCommand(ctx: CommandContext, args: readonly string[], opts: SetOptions & o.GlobalOpts): Promise<void> {
    if (opts.valueFile === true && opts.valueStdin === true) {
        throw new SecretsError(ExitCode.ConflictingParameters, "--value-file and --value-stdin cannot be used together")
    }
    const wanted = opts.valueStdin === true ? 2 : 3
    if (args.length !== wanted) {
        throw new SecretsError(
            ExitCode.NoFileSpecified,
            opts.valueStdin === true
                ? `with --value-stdin, set takes exactly 2 arguments, FILE and INDEX (got ${args.length})`
                : `set takes exactly 3 arguments, FILE, INDEX and VALUE (got ${args.length})`,
            ["usage: secrets set [--value-stdin | --value-file] FILE INDEX [VALUE]; see secrets set --help"],
        )
    }
    const [file, index, valueArg] = args as [string, string, string | undefined]
    const { io } = ctx
    let value: string | Uint8Array
    if (opts.valueStdin === true) {
        const { readStdin } = await import("../../files/io.js")
        if (io.stdin.isTTY === true) io.stderr.write("secrets: reading the JSON value from stdin; end it with Ctrl-D\n")
        value = await readStdin(io)
    } else if (opts.valueFile === true) {
        value = await readValueFile(io, valueArg ?? "")
    } else {
        value = valueArg ?? ""
    }
    value = await resolveOpValue(io, value)
    await runSet(ctx, file, index, value, opts)
}

/**
 * Set the JSON `value` at `index` (e.g. `["db"]["password"]`) in the first document
 * of `file`, under the file's lock, and rewrite it atomically. Also the engine of
 * the legacy `secrets --set '["a"] "v"' FILE` form.
 *
 * Exit codes as in sops: 7 for a value that is not JSON (or an array), 91 for a
 * malformed index (sops has no code of its own here; 91 is its path-syntax code for
 * `--extract`), 100 when the file does not exist, 128 when no identity opens it,
 * 51 on a MAC mismatch unless `ignoreMac`.
 */
export async function runSet(
    ctx: CommandContext,
    file: string,
    index: string,
    value: string | Uint8Array,
    opts: SetOptions & o.GlobalOpts,
): Promise<void> {
    const { io } = ctx
    const { parseJsonValue } = await import("../json-value.js")
    const { parseTreePath, getAt, setAt, describePath } = await import("../../core/tree-path.js")
    const node = parseJsonValue(value)
    const path = parseTreePath(index)
    const { resolveFormats } = await import("../formats.js")
    const formats = resolveFormats({ file, inputType: opts.inputType, outputType: opts.outputType })
    refuseReserved(path, formats.input)
    refuseReserved(path, formats.output)
    await assertFileExists(io, file)
    const { creationRuleOf, warnRuleDrift, checkClearValues } = await import("../rule-checks.js")
    const creation = creationRuleOf(io, file, opts.config)

    const { modifyEncryptedFile } = await import("../../files/modify-file.js")
    const written = await modifyEncryptedFile(io, file, modifyOptions(opts), async (opened, store) => {
        const outStore = await outputStore(store, formats.output, opts)
        const drift = creation === undefined ? undefined : warnRuleDrift(io, file, opened.metadata, creation, outStore.format === "binary")
        const first = firstDocument(opened, file)
        if (opts.idempotent === true) {
            const current = getAt(first, path)
            if (current !== undefined && sameNode(current, node)) return undefined
        }
        const branches = [setAt(first, path, node), ...opened.branches.slice(1)]
        checkClearValues(io, "set", file, opened.branches, branches, drift, opts.allowClear === true)
        return sealAgain(branches, outStore, opened, io, file)
    })
    if (!written) info(io, `${quote(file)} already has this value at ${describePath(path)}: not written`)
}

/**
 * The store the file is written back with: the one it was read with unless the
 * output format differs (`--output-type`, or `--input-type json` on `z.yaml`,
 * src/cli/formats.ts). As in sops, `set --output-type yaml f.json` rewrites f.json
 * as YAML in place, even when the value did not change (unless --idempotent).
 */
export async function outputStore(input: Store, output: Format, opts: { indent?: number }): Promise<Store> {
    if (output === input.format) return input
    const { loadStore } = await import("../../stores/index.js")
    return loadStore(output, opts.indent === undefined ? {} : { indent: opts.indent })
}

/** What {@link modifyEncryptedFile} needs from set/unset options. */
export function modifyOptions(opts: SetOptions & o.GlobalOpts) {
    return {
        ignoreMac: opts.ignoreMac === true,
        ...(opts.inputType !== undefined ? { inputType: opts.inputType } : {}),
        ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder } : {}),
        ...(opts.indent !== undefined ? { indent: opts.indent } : {}),
    }
}

/**
 * sops checks `os.Stat` before set/unset and exits 100 for a missing file (it does
 * not create one, sops #173); checking before taking the lock also avoids creating
 * a lock file in a directory that does not exist.
 */
export async function assertFileExists(io: Io, file: string): Promise<void> {
    const { stat } = await import("node:fs/promises")
    try {
        await stat(resolve(io.cwd, file))
    } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") {
            throw new SecretsError(ExitCode.NoFileSpecified, `${quote(file)} does not exist`, [
                "set and unset change existing encrypted files; create it first with secrets encrypt or secrets edit",
            ])
        }
        throw e
    }
}

/** Document 1, where sops' set and unset work (sops-format.md §11.8). */
export function firstDocument(opened: OpenedFile, file: string) {
    const first = opened.branches[0]
    if (first === undefined) throw new SecretsError(ExitCode.Generic, `${quote(file)} has no document`)
    return first
}

/**
 * Encrypt again under the opened data key with the IV stash. A store that cannot
 * hold the new tree (a nested value in dotenv) is sops' "could not marshal tree",
 * exit 4.
 */
export async function sealAgain(branches: OpenedFile["branches"], store: Store, opened: OpenedFile, io: Io, file: string): Promise<Uint8Array> {
    const { seal } = await import("../../engine/seal.js")
    try {
        return seal(branches, store, opened.metadata, opened.dataKey, opened.stash, io.now())
    } catch (e) {
        if (e instanceof FormatError) throw new SecretsError(ExitCode.ErrorDumpingTree, e.detail, e.hints).about(quote(file))
        throw e instanceof SecretsError ? e.about(quote(file)) : e
    }
}

/**
 * The top-level `sops` key (and, in dotenv, any `sops_` key) holds the metadata:
 * a value there would be read back as metadata or clash with it. sops does not
 * check and writes a file it cannot read again; we refuse up front.
 */
function refuseReserved(path: readonly PathStep[], format: Format): void {
    const top = path[0]
    if (top === "sops" || (format === "dotenv" && typeof top === "string" && top.startsWith("sops_"))) {
        throw new SecretsError(ExitCode.InvalidSetFormat, `the top-level key ${quote(top)} is reserved for the file's sops metadata`)
    }
}

/**
 * A bare `op://…` value (not JSON, so no clash with a real JSON value) is a
 * 1Password reference: read it now, before the file is locked, so that an op failure
 * leaves the file untouched, and hand it on as a JSON string. Only a bare reference
 * counts; the JSON string '"op://…"' stays literal text (issue 5 §2).
 */
async function resolveOpValue(io: Io, value: string | Uint8Array): Promise<string | Uint8Array> {
    const text = (typeof value === "string" ? value : Buffer.from(value).toString("utf8")).trim()
    const { isOpReference } = await import("../../integrations/op-reference.js")
    if (!isOpReference(text)) return value
    const { opClientFromEnv } = await import("../../integrations/op.js")
    let secret: string
    try {
        secret = await opClientFromEnv(io.env).read(text)
    } catch (e) {
        // op.ts names the reference; anything else is reduced to a safe line naming it.
        if (e instanceof SecretsError) throw e.message.includes(text) ? e : e.about(text)
        throw new SecretsError(ExitCode.Generic, `could not read ${text} from 1Password: ${e instanceof Error ? e.name : "unknown error"}`)
    }
    return JSON.stringify(secret)
}

async function readValueFile(io: Io, path: string): Promise<Uint8Array> {
    // As in sops, the file holds the JSON value itself (not raw text to store as a string).
    try {
        return await readFile(resolve(io.cwd, path))
    } catch (e) {
        const code = (e as { code?: string }).code
        throw new SecretsError(
            ExitCode.CouldNotReadInputFile,
            `cannot read the value file ${quote(path)}: ${code === "ENOENT" ? "it does not exist" : (code ?? "unknown error")}`,
        )
    }
}
