/**
 * `secrets completion bash|zsh|fish` and the hidden `__complete` callback (issue 6).
 * Placeholder: being written.
 */
import type { Command } from "commander"
import type { CommandContext } from "../context.js"

export function registerCompletion(_program: Command, _ctx: CommandContext): void {}
