/**
 * `secrets keys …`: the named keys of a fleet (hosts, users, the recovery key) and
 * the local identities. Each group of subcommands lives in its own file.
 */
import type { Command } from "commander"
import type { CommandContext } from "../context.js"
import { registerKeysBackup } from "./keys-backup.js"
import { registerKeysGenerate } from "./keys-generate.js"
import { registerKeysNames } from "./keys-names.js"
import { registerKeysRetired } from "./keys-retired.js"
import { registerKeysRevoke } from "./keys-revoke.js"

export function registerKeys(program: Command, ctx: CommandContext): void {
    const keys = program.command("keys").description("manage named keys (hosts, users, recovery) and local identities")
    registerKeysGenerate(keys, ctx)
    registerKeysNames(keys, ctx)
    registerKeysRevoke(keys, ctx)
    registerKeysRetired(keys, ctx)
    registerKeysBackup(keys, ctx)
}
