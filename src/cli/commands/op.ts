/**
 * `secrets op pull|push|sync`: 1Password through the `op` CLI (issue 5).
 * Placeholder: the subcommands are being written.
 */
import type { Command } from "commander"
import type { CommandContext } from "../context.js"

export function registerOp(program: Command, _ctx: CommandContext): void {
    program.command("op").description("source, push and sync values with 1Password through the op CLI")
}
