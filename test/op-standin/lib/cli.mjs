// Cobra-style argv parsing for the stand-in `op` (op-cli.md §7 and the Stand-in
// contract): `--x v` and `--x=v`, short flags, flags anywhere before `--`, global
// flags on every command, OP_FORMAT as the default for `--format`.
import { OpFail } from "./common.mjs"

const S = "string", B = "bool", A = "array", O = "optional"

/** Flags every command accepts (op 2.39 help). */
const GLOBAL = {
    account: { type: S }, cache: { type: B }, config: { type: S }, debug: { type: B },
    encoding: { type: S }, format: { type: S }, help: { type: B, short: "h" },
    "iso-timestamps": { type: B }, "no-color": { type: B }, session: { type: S },
    version: { type: B, short: "v" },
}

const FILE_OUT = { "out-file": { type: S, short: "o" }, "file-mode": { type: S }, force: { type: B, short: "f" } }

/** The commands the stand-in knows, their usage line and their own flags. */
export const COMMANDS = {
    "read": { usage: "op read <reference> [flags]", flags: { "no-newline": { type: B, short: "n" }, ...FILE_OUT } },
    "whoami": { usage: "op whoami [flags]", flags: {} },
    "account list": { usage: "op account list [flags]", flags: {} },
    "vault list": { usage: "op vault list [flags]", flags: {} },
    "vault get": { usage: "op vault get [{ <vaultName> | <vaultID> | - }] [flags]", flags: {} },
    "item get": {
        usage: "op item get [{ <itemName> | <itemID> | <shareLink> | - }] [flags]",
        flags: { fields: { type: S }, "include-archive": { type: B }, otp: { type: B }, reveal: { type: B }, "share-link": { type: B }, vault: { type: S } },
    },
    "item list": {
        usage: "op item list [flags]",
        flags: { categories: { type: S }, favorite: { type: B }, "include-archive": { type: B }, long: { type: B }, tags: { type: S }, vault: { type: S } },
    },
    "item create": {
        usage: "op item create [ - ] [ <assignment>... ] [flags]",
        flags: {
            category: { type: S }, "dry-run": { type: B }, favorite: { type: B }, "generate-password": { type: O }, reveal: { type: B },
            "ssh-generate-key": { type: S }, tags: { type: S }, template: { type: S }, title: { type: S }, url: { type: S }, vault: { type: S },
        },
    },
    "item edit": {
        usage: "op item edit { <itemName> | <itemID> | <shareLink> } [ <assignment> ... ] [flags]",
        flags: {
            "dry-run": { type: B }, favorite: { type: B }, "generate-password": { type: O }, reveal: { type: B },
            tags: { type: S }, template: { type: S }, title: { type: S }, url: { type: S }, vault: { type: S },
        },
    },
    "item delete": { usage: "op item delete [{ <itemName> | <itemID> | <shareLink> | - }] [flags]", flags: { archive: { type: B }, vault: { type: S } } },
    "inject": { usage: "op inject [flags]", flags: { "in-file": { type: S, short: "i" }, ...FILE_OUT } },
    "run": { usage: "op run -- <command> <command>... [flags]", flags: { "env-file": { type: A }, "no-masking": { type: B }, environment: { type: S } } },
    "env ls": { usage: "op env ls [flags]", flags: {} },
}

const GROUPS = new Set(Object.keys(COMMANDS).filter((c) => c.includes(" ")).map((c) => c.split(" ")[0]))

/** Every flag that takes a separate value, in any command: to skip values while finding the command. */
const VALUE_LONG = new Set()
const VALUE_SHORT = new Set()
for (const spec of [GLOBAL, ...Object.values(COMMANDS).map((c) => c.flags)]) {
    for (const [name, f] of Object.entries(spec)) {
        if (f.type === S || f.type === A) {
            VALUE_LONG.add(name)
            if (f.short) VALUE_SHORT.add(f.short)
        }
    }
}

function usageError(message, usage) {
    return new OpFail(`${message}\nUsage:  ${usage}`)
}

/**
 * Parse argv into `{ command, flags, args, rest }`: `command` is the command path
 * ("item get"), `args` the positionals, `rest` what follows `--`. `--version` and
 * `--help` with no command give command "" (the caller handles them).
 */
export function parseArgv(argv, env) {
    const words = []
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]
        if (a === "--") break
        if (a.startsWith("--") && !a.includes("=")) {
            if (VALUE_LONG.has(a.slice(2))) i++
        } else if (a.startsWith("-") && a.length === 2 && a !== "-") {
            if (VALUE_SHORT.has(a[1])) i++
        } else if (!a.startsWith("-") || a === "-") {
            words.push(a)
        }
    }
    let command = ""
    const first = words[0]
    if (first !== undefined) {
        if (GROUPS.has(first)) {
            const sub = words[1]
            if (sub === undefined || !COMMANDS[`${first} ${sub}`]) {
                throw usageError(`unknown command "${sub ?? ""}" for "op ${first}"`, `op ${first} [command]`)
            }
            command = `${first} ${sub}`
        } else if (COMMANDS[first]) {
            command = first
        } else {
            throw usageError(`unknown command "${first}" for "op"`, "op [command] [flags]")
        }
    }
    const spec = { ...GLOBAL, ...(command ? COMMANDS[command].flags : {}) }
    const usage = command ? COMMANDS[command].usage : "op [command] [flags]"
    const byShort = Object.fromEntries(Object.entries(spec).filter(([, f]) => f.short).map(([n, f]) => [f.short, n]))
    const flags = {}
    const args = []
    let rest = []
    let toSkip = command ? command.split(" ") : []
    const set = (name, f, value) => {
        if (f.type === A) (flags[name] ??= []).push(value)
        else flags[name] = value
    }
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]
        if (a === "--") {
            rest = argv.slice(i + 1)
            break
        }
        if (a.startsWith("--")) {
            const eq = a.indexOf("=")
            const name = eq < 0 ? a.slice(2) : a.slice(2, eq)
            const f = spec[name]
            if (!f) throw usageError(`unknown flag: --${name}`, usage)
            if (f.type === B) {
                const v = eq < 0 ? "true" : a.slice(eq + 1)
                if (v !== "true" && v !== "false") throw usageError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`, usage)
                flags[name] = v === "true"
            } else if (f.type === O) {
                flags[name] = eq < 0 ? "" : a.slice(eq + 1)
            } else if (eq >= 0) {
                set(name, f, a.slice(eq + 1))
            } else {
                if (i + 1 >= argv.length) throw usageError(`flag needs an argument: --${name}`, usage)
                set(name, f, argv[++i])
            }
        } else if (a.startsWith("-") && a !== "-") {
            // Short flags: `-nf` groups booleans, `-o v`, `-ov` and `-o=v` give values.
            for (let j = 1; j < a.length; j++) {
                const c = a[j]
                const name = byShort[c]
                if (!name) throw usageError(`unknown shorthand flag: '${c}' in ${a}`, usage)
                const f = spec[name]
                if (f.type === B) {
                    flags[name] = true
                    continue
                }
                let v = a.slice(j + 1)
                if (v.startsWith("=")) v = v.slice(1)
                if (v === "") {
                    if (i + 1 >= argv.length) throw usageError(`flag needs an argument: '${c}' in ${a}`, usage)
                    v = argv[++i]
                }
                set(name, f, v)
                break
            }
        } else if (toSkip.length > 0 && a === toSkip[0]) {
            toSkip = toSkip.slice(1)
        } else {
            args.push(a)
        }
    }
    flags.format ??= env.OP_FORMAT || "human-readable"
    if (flags.format !== "json" && flags.format !== "human-readable") {
        throw usageError(`invalid argument "${flags.format}" for "--format" flag: must be one of: human-readable, json`, usage)
    }
    return { command, flags, args, rest, usage }
}
