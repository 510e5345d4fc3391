// `op inject` and `op run` (op-cli.md §5): template references (enclosed `{{ … }}`
// and bare `op://…`), `$VAR` / `${VAR}` / `${VAR:-default}` inside references, env
// files, masking of resolved values in the child's output.
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { OpFail } from "./common.mjs"
import { resolveSecret, writeOutFile } from "./commands.mjs"

/** Expand variables in a reference; names are case-insensitive (§5). */
function expandVars(text, env) {
    const lookup = (name) => {
        const key = Object.keys(env).find((k) => k.toLowerCase() === name.toLowerCase())
        return key === undefined ? undefined : env[key]
    }
    return text.replace(/\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced, def, bare) => {
        const v = lookup(braced ?? bare)
        return v !== undefined && v !== "" ? v : (def ?? "")
    })
}

/**
 * Replace every reference in `text`. A bare reference starts at `op://` not preceded
 * by an alphanumeric, `-`, `+`, `\` or `.`, and runs over alphanumerics and `-?_./=&`
 * plus `$`/`{}` variables; `{{ "…" }}` prints its inner text literally.
 */
export function renderTemplate(ctx, text, values) {
    const resolve = (ref) => {
        const value = resolveSecret(ctx, expandVars(ref.trim(), ctx.env)).toString("utf8")
        values.add(value)
        return value
    }
    let out = ""
    let i = 0
    while (i < text.length) {
        if (text.startsWith("{{", i)) {
            // The escape form `{{ "…" }}` may itself contain `}}`: find its closing quote first.
            const esc = /^\{\{\s*"((?:\\.|[^"\\])*)"\s*\}\}/.exec(text.slice(i))
            if (esc) {
                out += esc[1].replace(/\\"/g, '"')
                i += esc[0].length
                continue
            }
            const end = text.indexOf("}}", i + 2)
            if (end > 0) {
                const inner = text.slice(i + 2, end).trim()
                out += resolve(inner)
                i = end + 2
                continue
            }
        }
        if (text.startsWith("op://", i) && !/[A-Za-z0-9+\-\\.]/.test(text[i - 1] ?? " ")) {
            const m = /^op:\/\/(?:[A-Za-z0-9\-?_./=&]|\$\{[^}]*\}|\$[A-Za-z_])*/.exec(text.slice(i))
            out += resolve(m[0])
            i += m[0].length
            continue
        }
        out += text[i]
        i++
    }
    return out
}

/** `op inject`: nothing is written unless every reference resolves. */
export function injectCommand(ctx) {
    let input
    if (ctx.flags["in-file"] !== undefined) {
        try {
            input = readFileSync(ctx.flags["in-file"], "utf8")
        } catch {
            throw new OpFail(`could not read the input file ${ctx.flags["in-file"]}`)
        }
    } else {
        input = ctx.stdin?.toString("utf8") ?? ""
    }
    const out = renderTemplate(ctx, input, new Set())
    if (ctx.flags["out-file"] !== undefined) {
        writeOutFile(ctx, ctx.flags["out-file"], Buffer.from(out))
        return ""
    }
    return out
}

/** Parse an env file (§5): KEY=VALUE, comments, quotes, `$VAR` outside single quotes. */
function parseEnvFile(text, env) {
    const out = {}
    const re = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*('(?:[^'])*'|"(?:\\.|[^"\\])*"|[^\n#]*)\s*(?:#.*)?$/gm
    let m
    while ((m = re.exec(text)) !== null) {
        let v = m[2].trim()
        if (v.startsWith("'")) v = v.slice(1, -1)
        else {
            if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c))
            v = expandVars(v, { ...env, ...out })
        }
        out[m[1]] = v
    }
    return out
}

/** `op run [--env-file F]… -- cmd…`: the child's status is passed through ([?] §5). */
export function runCommand(ctx) {
    if (ctx.rest.length === 0) throw new OpFail(`expected a command after '--'\nUsage:  ${ctx.usage}`)
    const env = { ...ctx.env }
    for (const file of ctx.flags["env-file"] ?? []) {
        let text
        try {
            text = readFileSync(file, "utf8")
        } catch {
            throw new OpFail(`could not read the env file ${file}`)
        }
        Object.assign(env, parseEnvFile(text, env))
    }
    const values = new Set()
    for (const [k, v] of Object.entries(env)) {
        if (typeof v === "string" && (v.startsWith("op://") || v.includes("{{"))) env[k] = renderTemplate({ ...ctx, env }, v, values)
    }
    const mask = !ctx.flags["no-masking"] && !/^(1|true)$/i.test(ctx.env.OP_RUN_NO_MASKING ?? "")
    const secrets = [...values].filter((v) => v !== "").sort((a, b) => b.length - a.length)
    const hide = (buf) => {
        let s = buf.toString("utf8")
        if (mask) for (const v of secrets) s = s.split(v).join("<concealed by 1Password>")
        return s
    }
    return new Promise((resolve, reject) => {
        const child = spawn(ctx.rest[0], ctx.rest.slice(1), { env, stdio: ["inherit", "pipe", "pipe"] })
        const out = []
        const err = []
        child.stdout.on("data", (d) => out.push(d))
        child.stderr.on("data", (d) => err.push(d))
        child.on("error", () => reject(new OpFail(`could not run the command ${ctx.rest[0]}`)))
        child.on("close", (code) => {
            process.stderr.write(hide(Buffer.concat(err)))
            process.stdout.write(hide(Buffer.concat(out)))
            resolve(code ?? 1)
        })
    })
}
