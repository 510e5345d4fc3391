#!/usr/bin/env node
// Writes docs/reference/: one page per command, generated from the commander
// program itself (dist/cli/program.js, so run `npm run build` first), plus an index.
// The pages cannot drift from the program: test/unit/docs/reference.test.ts renders
// them again in memory and fails when docs/reference/ differs.
//
//   node scripts/gen-command-docs.mjs          write docs/reference/ (stale pages removed)
//
// Only what commander knows goes in: usage, description, arguments, options with
// their choices, defaults and env variables (as `--help` shows them), subcommands,
// and the text a command adds after its help (examples). The prose lives in the
// hand-written pages under docs/commands/, linked from each page.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")

/** The folder the pages are written to. */
export const REFERENCE_DIR = join(root, "docs/reference")

const GENERATED_NOTE =
    "<!-- Generated from the program by scripts/gen-command-docs.mjs: do not edit by hand, run `node scripts/gen-command-docs.mjs` after changing a command. -->"

// The hand-written page that explains each command (relative to docs/reference/).
// A command not listed here just gets no "see also" line.
const GUIDES = {
    encrypt: "../commands/encrypt-decrypt.md",
    decrypt: "../commands/encrypt-decrypt.md",
    view: "../commands/encrypt-decrypt.md",
    filestatus: "../commands/encrypt-decrypt.md",
    edit: "../commands/edit.md",
    set: "../commands/set-unset.md",
    unset: "../commands/set-unset.md",
    rotate: "../commands/keys-and-rotation.md",
    updatekeys: "../commands/keys-and-rotation.md",
    groups: "../commands/keys-and-rotation.md",
    "exec-env": "../commands/exec.md",
    "exec-file": "../commands/exec.md",
    render: "../commands/render.md",
    get: "../commands/get.md",
    init: "../commands/init.md",
    keys: "../keys.md",
    "keys list": "../commands/init.md",
    "keys add-host": "../commands/init.md",
    "keys add-user": "../commands/init.md",
    "keys remove": "../commands/init.md",
    "keys revoke": "../commands/revoke-rotate.md",
    "keys rotate": "../commands/revoke-rotate.md",
    "keys retired": "../commands/revoke-rotate.md",
    "keys generate": "../keys.md",
    "keys backup": "../keys.md",
    "keys restore": "../keys.md",
    access: "../keys.md",
    status: "../keys.md",
    op: "../1password.md",
    completion: "../completion.md",
}

/** Build the program as bin/secrets.cjs does, with an Io that runs nothing and writes into `out`. */
export async function loadProgram() {
    const url = pathToFileURL(join(root, "dist/cli/program.js")).href
    let mod
    try {
        mod = await import(url)
    } catch (e) {
        throw new Error(`cannot load dist/cli/program.js (run \`npm run build\` first): ${e instanceof Error ? e.message : String(e)}`)
    }
    const out = { text: "" }
    const sink = { write: (s) => void (out.text += String(s)) }
    const io = { cwd: root, env: {}, stdin: process.stdin, stdout: sink, stderr: sink, now: () => new Date(0) }
    const program = mod.createProgram(io, { exitCode: 0 })
    return { program, out }
}

/** A table cell: no line breaks, pipes escaped. */
function cell(s) {
    return s.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|")
}

function code(s) {
    return "`" + s + "`"
}

/** The full command path without the program name: "keys generate". */
function commandPath(cmd) {
    const names = []
    for (let c = cmd; c.parent; c = c.parent) names.unshift(c.name())
    return names.join(" ")
}

function pageName(cmd) {
    return `${commandPath(cmd).replace(/ /g, "-")}.md`
}

/** Subcommands shown in help, without commander's implicit `help [command]`. */
function subcommands(help, cmd) {
    return help.visibleCommands(cmd).filter((c) => c.name() !== "help")
}

/** Options shown in help, without -h/--help (every command has it). */
function options(help, cmd) {
    return help.visibleOptions(cmd).filter((o) => o.long !== "--help")
}

/** What the command prints after its help (addHelpText "after"): its examples, if any. */
function afterText(cmd, out) {
    const before = cmd.helpInformation()
    out.text = ""
    cmd.outputHelp()
    const full = out.text
    out.text = ""
    if (!full.startsWith(before)) return ""
    return full.slice(before.length).replace(/^\n+/, "").trimEnd()
}

function optionsTable(help, opts) {
    const lines = ["| option | description |", "|---|---|"]
    for (const o of opts) lines.push(`| ${code(help.optionTerm(o))} | ${cell(help.optionDescription(o))} |`)
    return lines.join("\n")
}

function renderCommand(help, cmd, out) {
    const path = commandPath(cmd)
    const parts = [`# secrets ${path}`, "", GENERATED_NOTE, ""]
    const description = help.commandDescription(cmd)
    if (description) parts.push(description, "")
    parts.push("```", help.commandUsage(cmd), "```", "")
    const aliases = cmd.aliases()
    if (aliases.length > 0) parts.push(`Aliases: ${aliases.map(code).join(", ")}`, "")

    const args = help.visibleArguments(cmd)
    if (args.length > 0) {
        parts.push("## Arguments", "", "| argument | description |", "|---|---|")
        for (const a of args) parts.push(`| ${code(help.argumentTerm(a))} | ${cell(help.argumentDescription(a))} |`)
        parts.push("")
    }
    const opts = options(help, cmd)
    if (opts.length > 0) parts.push("## Options", "", optionsTable(help, opts), "")

    const subs = subcommands(help, cmd)
    if (subs.length > 0) {
        parts.push("## Commands", "", "| command | description |", "|---|---|")
        for (const s of subs) parts.push(`| [${code(help.subcommandTerm(s))}](${pageName(s)}) | ${cell(help.subcommandDescription(s))} |`)
        parts.push("")
    }
    const after = afterText(cmd, out)
    if (after) parts.push("## Notes and examples", "", "```text", after, "```", "")

    parts.push("Global options (before the command): see [the index](README.md#global-options).")
    const guide = GUIDES[path]
    if (guide) parts.push("", `More: [${guide.replace(/^\.\.\//, "docs/")}](${guide}).`)
    return parts.join("\n") + "\n"
}

function renderIndex(help, program, commands) {
    const parts = ["# Command reference", "", GENERATED_NOTE, ""]
    parts.push(help.commandDescription(program), "", "```", help.commandUsage(program), "```", "")
    parts.push(
        "One page per command, generated from the program, so each lists exactly the",
        "arguments and options `secrets COMMAND --help` shows. The explanations and",
        "longer examples are in the guides under [docs/commands/](../commands/) and",
        "[docs/keys.md](../keys.md).",
        "",
    )
    parts.push("## Commands", "", "| command | description |", "|---|---|")
    for (const c of commands) parts.push(`| [${code(commandPath(c))}](${pageName(c)}) | ${cell(help.commandDescription(c))} |`)
    parts.push("")
    parts.push("## Global options", "", "These go before the command: `secrets --config ops/.sops.yaml encrypt f.yaml`.", "")
    parts.push(optionsTable(help, options(help, program)), "")
    return parts.join("\n")
}

/** Every visible command, depth first, parents before their subcommands. */
function walk(help, cmd) {
    const all = []
    for (const c of subcommands(help, cmd)) all.push(c, ...walk(help, c))
    return all
}

/**
 * Render docs/reference/ in memory: file name (relative to docs/reference/) to content.
 * @returns {Promise<Map<string, string>>}
 */
export async function renderReference() {
    const { program, out } = await loadProgram()
    const help = program.createHelp()
    // Wrapping depends on the terminal; the pages must not.
    help.helpWidth = 80
    const commands = walk(help, program)
    const pages = new Map()
    pages.set("README.md", renderIndex(help, program, commands))
    for (const c of commands) pages.set(pageName(c), renderCommand(help, c, out))
    return pages
}

async function main() {
    const pages = await renderReference()
    mkdirSync(REFERENCE_DIR, { recursive: true })
    for (const name of readdirSync(REFERENCE_DIR)) {
        if (name.endsWith(".md") && !pages.has(name)) rmSync(join(REFERENCE_DIR, name))
    }
    for (const [name, text] of pages) writeFileSync(join(REFERENCE_DIR, name), text)
    process.stdout.write(`wrote ${pages.size} pages to docs/reference/\n`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main()
