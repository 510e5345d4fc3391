/**
 * `secrets restore FILE KEYPATH --rev REV` (issue 15 §4): put the value KEYPATH had
 * at a git revision back into the current file, as a normal change: the same path
 * as `set` (modifyEncryptedFile: the file's lock, its MAC verified, one atomic
 * write; the creation rule's clear-value check), so every other value keeps its
 * exact ciphertext (the IV stash) and the diff is that value, `mac` and
 * `lastmodified`. The old value is decrypted in memory from git's object store
 * (files/revision-open.ts), with the retired identities when the revision was
 * encrypted to a since-rotated key; it never touches the disk in clear.
 *
 * KEYPATH absent at REV is an error (the hint offers `unset` to remove it now);
 * absent now, it is added, as `set` adds it. A whole subtree (`["db"]`) restores
 * as one value.
 */
import { Command, Option } from "commander"
import { ExitCode, SecretsError, quote } from "../../errors.js"
import type { Format } from "../../stores/store.js"
import * as o from "../options.js"
import type { CommandContext } from "../context.js"
import { info } from "../report.js"
import { assertFileExists, firstDocument, modifyOptions, outputStore, sealAgain } from "./set.js"

interface RestoreOptions {
    rev: string
    json?: boolean
    allowClear?: boolean
    ignoreMac?: boolean
    inputType?: Format
    decryptionOrder?: string
}

const EXAMPLES = `
Examples:
  secrets log secrets/app.yaml '["db"]["password"]'
  secrets restore secrets/app.yaml '["db"]["password"]' --rev HEAD~2
  git commit -m "db password: back to the value of HEAD~2" secrets/app.yaml
`

export function registerRestore(program: Command, ctx: CommandContext): void {
    program
        .command("restore")
        .description("put a value back as it was at a git revision (other values keep their ciphertext)")
        .argument("<file>", "the encrypted file")
        .argument("<keypath>", `the value to restore, e.g. '["db"]["password"]'`)
        .requiredOption("--rev <rev>", "the git revision to take it from: a commit id, HEAD~2, a tag")
        .addOption(new Option("--json", 'print {"file","keyPath","commit","date","written"} as JSON'))
        .option("--allow-clear", "write the value even if it lands in clear where the file's creation rule would encrypt it")
        .addOption(o.ignoreMac())
        .addOption(o.inputType())
        .addOption(o.decryptionOrder())
        .addOption(o.ageKeyOp())
        .addHelpText("after", EXAMPLES)
        .action(async (file: string, keyPath: string, _opts: RestoreOptions, cmd: Command) => {
            const opts = o.withEnvDefaults(cmd.optsWithGlobals<RestoreOptions & o.GlobalOpts>(), ctx.io.env)
            await ctx.dispatch("restore", [file, keyPath], opts, () => runRestore(o.withIdentityOptions(ctx, opts, file), file, keyPath, opts))
        })
}

async function runRestore(ctx: CommandContext, file: string, keyPath: string, opts: RestoreOptions & o.GlobalOpts): Promise<void> {
    const { io } = ctx
    const { parseTreePath, getAt, setAt, describePath } = await import("../../core/tree-path.js")
    const path = parseTreePath(keyPath)
    const shownPath = describePath(path)
    if (path[0] === "sops") throw new SecretsError(ExitCode.InvalidSetFormat, `the top-level key "sops" is the file's metadata, not a value`)
    await assertFileExists(io, file)

    const { resolveFormats } = await import("../formats.js")
    const formats = resolveFormats({ file, inputType: opts.inputType })
    const { loadStore } = await import("../../stores/index.js")
    const revStore = await loadStore(formats.input, opts.indent === undefined ? {} : { indent: opts.indent })
    const { readRevision, openRevision, revisionName, isoDate } = await import("../../files/revision-open.js")
    const rev = await readRevision(io, file, opts.rev)
    const old = await openRevision(io, file, rev, revStore, { ignoreMac: opts.ignoreMac === true })
    const first = old.branches[0]
    const value = first === undefined ? undefined : getAt(first, path)
    if (value === undefined) {
        throw new SecretsError(ExitCode.Generic, `${quote(revisionName(file, rev))} has no value at ${shownPath}: there is nothing to restore`, [
            `secrets log ${file} '${shownPath}' lists the commits that changed it`,
            `to remove it from the file now: secrets unset ${file} '${shownPath}'`,
        ])
    }

    const { creationRuleOf, warnRuleDrift, checkClearValues } = await import("../rule-checks.js")
    const creation = creationRuleOf(io, file, opts.config)
    const { sameNode } = await import("../../core/same-node.js")
    const { modifyEncryptedFile } = await import("../../files/modify-file.js")
    const written = await modifyEncryptedFile(io, file, modifyOptions(opts), async (opened, store) => {
        const out = await outputStore(store, formats.output, opts)
        const drift = creation === undefined ? undefined : warnRuleDrift(io, file, opened.metadata, creation, out.format === "binary")
        const current = firstDocument(opened, file)
        const now = getAt(current, path)
        // The value is already back: rewriting would only churn `mac` and `lastmodified`.
        if (now !== undefined && sameNode(now, value)) return undefined
        const branches = [setAt(current, path, value), ...opened.branches.slice(1)]
        checkClearValues(io, "restore", file, opened.branches, branches, drift, opts.allowClear === true)
        return sealAgain(branches, out, opened, io, file)
    })
    if (opts.json === true) {
        const out = { file, keyPath: shownPath, commit: rev.commit, date: isoDate(rev.date), written }
        io.stdout.write(JSON.stringify(out, null, 2) + "\n")
    } else if (written) {
        io.stdout.write(`restored ${shownPath} from ${rev.short} (${isoDate(rev.date)})\n`)
    } else {
        info(io, `${quote(file)} already has the value of ${shownPath} from ${rev.short}: not written`)
    }
}
