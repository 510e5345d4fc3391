/**
 * The variables `secrets run --file F` takes from one opened file (issue 13
 * point 1): the top-level scalars of the first document, or with `--flatten`
 * every scalar under its key path joined by `__` (`db: {password: x}` is
 * `db__password`, a list item `hosts__0`), the convention of .NET and
 * docker-compose style configs.
 *
 * The same rules as exec-env (src/files/env-from-tree.ts), for the same reasons: a
 * null is left out (nothing authenticates it), a name of a dangerous family
 * (PATH, LD_PRELOAD, …: src/files/env-denylist.ts, which the caller passes in, the
 * cli layer being above this one) is set only from a value that was decrypted
 * under its own key path, and a name with `=` or a NUL, or a value with a NUL,
 * cannot go through execve and is refused naming the key, never the value.
 */
import type { Scalar } from "../core/tree.js"
import { flatLeaves } from "../core/flat-names.js"
import { aadFor } from "../core/walk.js"
import type { OpenedFile } from "../engine/open.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import { valueToString } from "../stores/flatten.js"

export interface FileVariable {
    readonly name: string
    readonly value: string
}

export interface FileVariableOptions {
    readonly flatten: boolean
    /** What a dangerous name changes (for the warning), or undefined when any value may set it. */
    readonly dangerous: (name: string) => string | undefined
    /** Told about each key left out, by name and why; never the value. */
    readonly onSkip: (name: string, why: string) => void
}

export function fileVariables(opened: OpenedFile, opts: FileVariableOptions): FileVariable[] {
    const out: FileVariable[] = []
    const doc = opened.branches[0]
    if (doc === undefined) return out
    const add = (value: Scalar, name: string, aadPath: readonly string[]): void => {
        if (name === "") throw new SecretsError(ExitCode.Generic, "an empty key cannot be an environment variable name")
        if (name.includes("=") || name.includes("\0")) {
            throw new SecretsError(ExitCode.Generic, `the key ${quote(name)} cannot be an environment variable name (it contains "=" or a NUL)`, ["rename the key"])
        }
        if (value.kind === "null") {
            opts.onSkip(name, "it is null")
            return
        }
        const text = valueToString(value)
        if (text.includes("\0")) throw new SecretsError(ExitCode.Generic, `the value of ${quote(name)} contains a NUL character and cannot be put into the environment`)
        const what = opts.dangerous(name)
        if (what !== undefined && opened.stash.lookup(aadFor(aadPath), value) === undefined) {
            opts.onSkip(name, `it changes ${what}, and its value is not encrypted, so nothing shows who wrote it; encrypt the value to pass it`)
            return
        }
        out.push({ name, value: text })
    }
    if (opts.flatten) {
        for (const leaf of flatLeaves(doc, "rename one of the keys, or leave out --flatten")) {
            const node = leaf.node
            if (node.kind === "map" || node.kind === "list") opts.onSkip(leaf.name, `it is an empty ${node.kind === "map" ? "mapping" : "list"}`)
            else add(node, leaf.name, leaf.aadPath)
        }
        return out
    }
    for (const item of doc.items) {
        if (item.kind !== "entry") continue
        const value = item.value
        if (value.kind === "map" || value.kind === "list") {
            throw new SecretsError(ExitCode.Generic, `the value of ${quote(item.key)} is ${value.kind === "map" ? "a mapping" : "a list"}; only scalar values can be environment variables`, [
                "add --flatten to pass nested values as NAME__KEY variables",
            ])
        }
        add(value, item.key, [item.key])
    }
    return out
}
