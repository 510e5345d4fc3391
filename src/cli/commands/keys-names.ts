/**
 * `secrets keys …` subcommands: being written; registered once they work.
 */
import type { Command } from "commander"
import type { CommandContext } from "../context.js"

export function registerKeysNames(keys: Command, ctx: CommandContext): void {
    void keys
    void ctx
}
