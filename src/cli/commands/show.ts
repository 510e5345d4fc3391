/**
 * `secrets show FILE --rev REV [--extract KEYPATH] [--json]` (issue 15 §4): the
 * plaintext of FILE as it was at a git revision, as `decrypt` prints it. The
 * revision comes from git's object store into memory (files/revision-open.ts):
 * plaintext goes to stdout only, never to a file, so there is no --output / -i.
 *
 * --json prints one object a script can use without parsing the file's format:
 * `{"commit", "date", "file", "value"}` plus `"keyPath"` with --extract; `value` is
 * the value at KEYPATH, or the whole document (a list of documents for a
 * multi-document YAML file), as JSON.
 */
import { Command, Option } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Node } from "../../core/tree.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"

interface ShowOptions {
    rev: string
    extract?: string
    inputType?: Format
    outputType?: Format
    ignoreMac?: boolean
    json?: boolean
}

const EXAMPLES = `
REV is any revision git understands: a commit id, HEAD~3, a tag, main@{yesterday}.
Files encrypted to an identity that \`secrets keys rotate\` has since retired open
with the retired identity, which stays in your key file.

Examples:
  secrets log secrets/app.yaml '["db"]["password"]'
  secrets show secrets/app.yaml --rev HEAD~3
  secrets show secrets/app.yaml --rev 1a2b3c4 --extract '["db"]["password"]'
`

export function registerShow(program: Command, ctx: CommandContext): void {
    program
        .command("show")
        .description("print a file's plaintext as it was at a git revision (to stdout only)")
        .argument("<file>", "the encrypted file (it may since have been deleted)")
        .requiredOption("--rev <rev>", "the git revision: a commit id, HEAD~2, a tag, a branch")
        .addOption(o.extract())
        .addOption(o.inputType())
        .addOption(o.outputType())
        .addOption(o.ignoreMac())
        .addOption(new Option("--json", 'print {"commit","date","file","keyPath","value"} as JSON'))
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string, _opts: ShowOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<ShowOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("show", [file], opts, () => runShow(o.withIdentityOptions(ctx, opts, file), file, opts))
        })
}

async function runShow(ctx: CommandContext, file: string, opts: ShowOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { getAt, parseTreePath } = await import("../../core/tree-path.js")
    const path = opts.extract === undefined ? undefined : parseTreePath(opts.extract)
    const { resolveFormats } = await import("../formats.js")
    const formats = resolveFormats({ file, inputType: opts.inputType, outputType: opts.json === true ? "json" : opts.outputType })
    const { loadStore } = await import("../../stores/index.js")
    const storeOpts = opts.indent === undefined ? {} : { indent: opts.indent }
    const inStore = await loadStore(formats.input, storeOpts)
    const outStore = formats.output === formats.input ? inStore : await loadStore(formats.output, storeOpts)

    const { readRevision, openRevision, revisionName, isoDate } = await import("../../files/revision-open.js")
    const rev = await readRevision(io, file, opts.rev)
    const opened = await openRevision(io, file, rev, inStore, opts)

    let node: Node | undefined
    if (path !== undefined) {
        const first = opened.branches[0]
        node = first === undefined ? undefined : getAt(first, path)
        if (node === undefined) {
            throw new SecretsError(ExitCode.Generic, `${quote(revisionName(file, rev))} has no value at ${opts.extract ?? ""}`, [
                `secrets log ${file} lists the commits that changed it`,
            ])
        }
    }
    if (opts.json === true) {
        // Through the JSON store, so numbers, booleans and nulls come out as decrypt prints them in JSON.
        const { entry, map } = await import("../../core/tree.js")
        const asJson = (n: Node): unknown => (JSON.parse(Buffer.from(outStore.emitPlain([map(entry("v", n))])).toString("utf8")) as { v: unknown }).v
        const docs = opened.branches.map(asJson)
        const value = node !== undefined ? asJson(node) : docs.length === 1 ? docs[0] : docs
        const out = { commit: rev.commit, date: isoDate(rev.date), file: rev.path, ...(opts.extract !== undefined ? { keyPath: opts.extract } : {}), value }
        io.stdout.write(JSON.stringify(out, null, 2) + "\n")
        return
    }
    io.stdout.write(node !== undefined ? outStore.emitValue(node) : outStore.emitPlain(opened.branches))
}
