/**
 * `secrets access`: being written; the command is registered once it works.
 */
import type { Command } from "commander"
import type { CommandContext } from "../context.js"

export function registerAccess(program: Command, ctx: CommandContext): void {
    void program
    void ctx
}
