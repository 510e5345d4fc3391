/**
 * `secrets op pull|push|sync`: values between 1Password (through the `op` CLI)
 * and encrypted files (issue 5 §3; docs/1password.md). One file per subcommand.
 */
import type { Command } from "commander"
import type { CommandContext } from "../context.js"
import { registerOpPull } from "./op-pull.js"
import { registerOpPush } from "./op-push.js"
import { registerOpSync } from "./op-sync.js"

export function registerOp(program: Command, ctx: CommandContext): void {
    const op = program
        .command("op")
        .description("source, push and sync values with 1Password through the op CLI")
        .addHelpText("after", "\nSee docs/1password.md for the mapping file, service accounts and troubleshooting.\n")
    registerOpPull(op, ctx)
    registerOpPush(op, ctx)
    registerOpSync(op, ctx)
}
