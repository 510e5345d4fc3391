/**
 * The completion script for a shell, by name: what `secrets completion SHELL` prints
 * and scripts/completions.mjs writes into completions/.
 */
import { bashScript } from "./bash.js"
import type { Shell } from "./callback.js"
import { fishScript } from "./fish.js"
import { zshScript } from "./zsh.js"

/** The file name each shell's completion loader looks for. */
export const SCRIPT_FILES: Readonly<Record<Shell, string>> = { bash: "secrets.bash", zsh: "_secrets", fish: "secrets.fish" }

export function scriptFor(shell: Shell, program: string): string {
    switch (shell) {
        case "bash":
            return bashScript(program)
        case "zsh":
            return zshScript(program)
        case "fish":
            return fishScript(program)
    }
}
