/**
 * `secrets init`: being written; the command is registered once it works.
 */
import type { Command } from "commander"
import type { CommandContext } from "../context.js"

export function registerInit(program: Command, ctx: CommandContext): void {
    void program
    void ctx
}
