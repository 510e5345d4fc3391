/**
 * `secrets git pre-commit`: the body of the pre-commit hook (issue 15 §5; the hook
 * script that calls it is installed by `secrets git setup`). Checks what is staged
 * (src/files/pre-commit.ts): exit 0 quietly when clean, 1 with each refusal and its
 * fix otherwise, 2 when it cannot check at all (not in a repository, a bad
 * `.secretsignore`).
 */
import { Command } from "commander"
import { ExitCode, SecretsError } from "../../errors.js"
import type { CommandContext } from "../context.js"

export function registerGitPreCommit(git: Command, ctx: CommandContext): void {
    git.command("pre-commit")
        .description("check the staged files before a commit (the pre-commit hook): credentials, plaintext under encrypted paths, lock files, MACs")
        .action(async (_opts: object, cmd: Command) => {
            const opts = cmd.optsWithGlobals()
            await ctx.dispatch("git pre-commit", [], opts, async () => {
                const { preCommitCheck, printPreCommitReport } = await import("../../files/pre-commit.js")
                let report
                try {
                    report = await preCommitCheck(ctx.io)
                } catch (e) {
                    // A check that cannot run stops the commit too, with 2 (not 1, which means refusals).
                    if (e instanceof SecretsError && e.code !== ExitCode.CouldNotReadInputFile) throw new SecretsError(ExitCode.CouldNotReadInputFile, e.message, e.hints)
                    throw e
                }
                printPreCommitReport(ctx.io, report)
                if (report.refusals.length > 0) ctx.state.exitCode = ExitCode.Generic
            })
        })
}
