/**
 * What to say after "unknown command" (issue 11 §10): a correct suggestion or none.
 *
 * commander suggests any command within a few edits, so `secrets get` was told
 * "did you mean set?" — the opposite of what the user wanted. A wrong suggestion
 * costs more than none: it is typed in trust. The rule, in this order:
 *
 *   1. A word other tools use (sops, pass, kubectl, git, vault, 1Password's op…)
 *      with a known equivalent here gets that equivalent spelled out:
 *      `cat`/`show` → `view`, `put` → `set`, `rm` → `unset` (`get` was one
 *      until it became a command itself). These are meanings, not spellings, so they
 *      come first and stop there.
 *   2. An abbreviation: a word of 3 or more letters that starts one or more
 *      commands (`dec` → decrypt, `exec` → exec-env or exec-file).
 *   3. A misspelling: the same first letter, and at most one edit per three letters
 *      of the command (at least one), a swap of neighbours counting as one edit
 *      (`decrpyt` → decrypt, `sett` → set). People rarely mistype the first letter;
 *      a short word that differs there is another word (`get` is not `set`, `add`
 *      is not `and`), so nothing is suggested for it.
 */

/** The commands of one level, e.g. the root's or `keys`'s, and the level's name in hints. */
export interface CommandLevel {
    /** "" for the root, else the command whose subcommands these are (`keys`, `op`). */
    readonly path: string
    /** Visible command names of this level. */
    readonly names: readonly string[]
}

/** Words from other tools, per level, and what does that here. Each value is a whole hint. */
const OTHER_TOOLS: Record<string, Record<string, string>> = {
    "": {
        cat: "to print a decrypted file: secrets view FILE",
        show: "to print a decrypted file: secrets view FILE",
        print: "to print a decrypted file: secrets view FILE",
        read: "to print a decrypted file: secrets view FILE",
        put: `to set one value: secrets set FILE '["key"]' VALUE`,
        add: `to add a value: secrets set FILE '["key"]' VALUE; a person or host: secrets keys add-user / add-host`,
        rm: `to remove a value: secrets unset FILE '["key"]'; a whole file is removed with rm or git rm`,
        del: `to remove a value: secrets unset FILE '["key"]'; a whole file is removed with rm or git rm`,
        delete: `to remove a value: secrets unset FILE '["key"]'; a whole file is removed with rm or git rm`,
        remove: `to remove a value: secrets unset FILE '["key"]'; a key: secrets keys remove NAME`,
        list: "to list the keys in files (values masked): secrets ls; the files' state: secrets status; the named keys: secrets keys list",
        new: "to create a file: secrets edit NAME.yaml",
        create: "to create a file: secrets edit NAME.yaml",
        env: "to run a command with the file's values: secrets exec-env FILE COMMAND",
        rekey: "to give files the recipients of their rule: secrets updatekeys FILE...; a new data key: secrets rotate -i FILE",
        check: "to check every file (for CI): secrets status --check",
        verify: "to check every file (for CI): secrets status --check",
        lint: "to check every file (for CI): secrets status --check",
    },
    keys: {
        ls: "to list the named keys: secrets keys list",
        show: "to list the named keys: secrets keys list",
        rm: "to remove a named key: secrets keys remove NAME",
        del: "to remove a named key: secrets keys remove NAME",
        delete: "to remove a named key: secrets keys remove NAME",
        new: "to make a new identity: secrets keys generate",
        create: "to make a new identity: secrets keys generate",
        keygen: "to make a new identity: secrets keys generate",
    },
}

/** The hint lines for an unknown `word` at `level`; empty when nothing fits well. */
export function unknownCommandHints(word: string, level: CommandLevel): string[] {
    const known = OTHER_TOOLS[level.path]?.[word.toLowerCase()]
    if (known !== undefined) return [known]
    const near = suggestCommands(word, level.names)
    return near.length === 0 ? [] : [`did you mean ${near.join(" or ")}?`]
}

/** Commands `word` abbreviates or misspells, by the rule above; hidden ones (`__complete`) never. */
export function suggestCommands(word: string, names: readonly string[]): string[] {
    const w = word.toLowerCase()
    const visible = names.filter((n) => !n.startsWith("_") && n !== w)
    if (w.length >= 3) {
        const abbreviated = visible.filter((n) => n.startsWith(w))
        if (abbreviated.length > 0) return abbreviated
    }
    return visible.filter((n) => n[0] === w[0] && editDistance(n, w) <= Math.max(1, Math.floor(n.length / 3)))
}

/** Damerau-Levenshtein distance (optimal string alignment): a swap of neighbours is one edit. */
export function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
    for (let j = 1; j <= b.length; j++) d[0]![j] = j
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1
            const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? d[i - 2]![j - 2]! + 1 : Infinity
            d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost, swap)
        }
    }
    return d[a.length]![b.length]!
}
