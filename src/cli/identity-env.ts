/**
 * The environment variables secrets reads identities from (identity-sources.ts),
 * and an environment without them for the programs we start: the command of
 * `exec-env` / `exec-file` and the editor of `edit`.
 *
 * Why remove them: the child needs the file's plaintext, not the means to open
 * every other file the identity opens. A command's environment ends up in places
 * a file's values are not meant to reach (a crash reporter's dump, `env` in a
 * debug log, /proc/PID/environ of a long-lived server, every grandchild it
 * starts), and a nested sops or secrets in the command would quietly decrypt with
 * our identity. SOPS_AGE_KEY is the key itself; the _CMD variables and
 * SECRETS_AGE_KEY_OP produce it on demand. The _FILE variables hold only paths,
 * but they point the child at the key as surely (a CI runner's key file lives in
 * a random temp path no one would guess), so they go too. What stays readable is
 * any key file the user can read, the default one included: files are protected
 * by their permissions, not by the environment.
 *
 * `--pass-identity-env` keeps them, for a command that really runs sops or
 * secrets on other files.
 */
import { Option } from "commander"
import { IDENTITY_VARIABLES } from "../files/identity-variables.js"

// The list lives in files/ (secrets get, in run/, needs it too); re-exported for the commands and tests.
export { IDENTITY_VARIABLES }

/**
 * `env` without {@link IDENTITY_VARIABLES} (unless `pass`) and without unset
 * entries, as a fresh object with no prototype (a variable named `__proto__` stays
 * a variable).
 */
export function childBaseEnvironment(env: Readonly<Record<string, string | undefined>>, pass: boolean): Record<string, string> {
    const out = Object.create(null) as Record<string, string>
    for (const [k, v] of Object.entries(env)) {
        if (v === undefined) continue
        if (!pass && IDENTITY_VARIABLES.includes(k)) continue
        out[k] = v
    }
    return out
}

/** `--pass-identity-env` for the commands that start a program; `to` names it. */
export const passIdentityEnvOption = (to: string) =>
    new Option("--pass-identity-env", `also give ${to} our identity variables (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, …), which are removed by default`)
