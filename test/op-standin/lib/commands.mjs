// The stand-in's commands (op-cli.md §2–§6 and the Stand-in contract's table). Each
// gets `ctx = { env, store, auth, flags, args, rest, stdin }` and returns stdout text
// (or throws OpFail). Mutations call ctx.save().
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { resolve as resolvePath } from "node:path"
import { localNanoStamp, newId, now, OpFail, opJson, utcStamp } from "./common.mjs"
import { applyAssignment, builtinFields, fromTemplate, generatePassword, normalizeCategory, parseAssignment, setPassword } from "./items.mjs"
import { renderField, renderItem, renderSummary, renderVault, totp } from "./render.mjs"
import { findField, findItem, findVault, parseReference } from "./resolve.mjs"
import { visibleVaults } from "./store.mjs"

const CONCEALED_TEXT = (id) => `[use 'op item get ${id} --reveal' to reveal]`

/**
 * Service accounts must name a vault for item get/create/delete (§3, §6). [?] op's
 * exact text is not captured; this one is a stand-in choice.
 */
export const SA_NEEDS_VAULT = "a vault must be specified when using a service account: use the --vault flag or piped input"

function needVault(ctx, vault) {
    if (ctx.auth.mode === "service_account" && (vault === undefined || vault === "")) throw new OpFail(SA_NEEDS_VAULT)
}

const includeArchive = (ctx) => ctx.flags["include-archive"] === true || /^(1|true)$/i.test(ctx.env.OP_INCLUDE_ARCHIVE ?? "")

function table(rows) {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
    return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 4))).join("").trimEnd()).join("\n") + "\n"
}

export function whoami(ctx) {
    const a = ctx.store.auth?.account ?? {}
    if (ctx.auth.mode === "service_account") {
        const out = { url: String(a.url ?? "").replace(/\/$/, ""), user_uuid: a.user_uuid, account_uuid: a.account_uuid, user_type: "SERVICE_ACCOUNT" }
        if (ctx.flags.format === "json") return opJson(out)
        return `URL:               ${out.url}\nIntegration ID:    ${out.user_uuid}\nUser Type:         SERVICE_ACCOUNT\n`
    }
    const out = { url: a.url, email: a.email, user_uuid: a.user_uuid, account_uuid: a.account_uuid, shorthand: a.shorthand || undefined }
    if (ctx.flags.format === "json") return opJson(out)
    return `URL:        ${out.url}\nEmail:      ${out.email}\nUser ID:    ${out.user_uuid}\n`
}

export function accountList(ctx) {
    const a = ctx.store.auth?.account
    const list = a ? [{ url: String(a.url ?? "").replace(/^https?:\/\//, "").replace(/\/$/, ""), email: a.email, user_uuid: a.user_uuid, account_uuid: a.account_uuid, shorthand: a.shorthand || undefined }] : []
    if (ctx.flags.format === "json") return opJson(list)
    return table([["SHORTHAND", "URL", "EMAIL", "USER ID"], ...list.map((x) => [x.shorthand ?? "", x.url, x.email ?? "", x.user_uuid ?? ""])])
}

export function vaultList(ctx) {
    const list = visibleVaults(ctx.store, ctx.auth).map((v) => ({ id: v.id, name: v.name, content_version: v.content_version ?? 1 }))
    if (ctx.flags.format === "json") return opJson(list)
    return table([["ID", "NAME"], ...list.map((v) => [v.id, v.name])])
}

export function vaultGet(ctx) {
    const spec = ctx.args[0]
    if (spec === undefined) throw new OpFail("a vault name or ID is required")
    const v = renderVault(findVault(ctx.store, ctx.auth, spec))
    if (ctx.flags.format === "json") return opJson(v)
    return `ID:                   ${v.id}\nName:                 ${v.name}\nType:                 ${v.type}\nAttribute version:    ${v.attribute_version}\nContent version:      ${v.content_version}\nItems:                ${v.items}\nCreated:              ${v.created_at}\nUpdated:              ${v.updated_at}\n`
}

/** `op read`: the value, a newline unless `-n`, or the value into `-o FILE`. */
export function read(ctx) {
    const ref = ctx.args[0]
    if (ref === undefined) throw new OpFail(`expected exactly 1 argument, got 0\nUsage:  ${ctx.usage}`)
    const bytes = resolveSecret(ctx, ref)
    const outFile = ctx.flags["out-file"]
    if (outFile !== undefined) return writeOutFile(ctx, outFile, bytes)
    return ctx.flags["no-newline"] ? bytes : Buffer.concat([bytes, Buffer.from("\n")])
}

/**
 * The bytes a reference names (read, inject, run). Every resolution failure is wrapped
 * as `could not read secret '<ref>': …`, an item or vault miss with the cause
 * `could not get item <vault>/<item>: …` (§2).
 */
export function resolveSecret(ctx, ref) {
    const r = parseReference(ref)
    const wrap = (cause) => new OpFail(`could not read secret '${ref}': ${cause}`)
    let found
    try {
        found = findItem(ctx.store, ctx.auth, r.item, r.vault, false)
    } catch (e) {
        throw wrap(`could not get item ${r.vault}/${r.item}: ${e.message}`)
    }
    const target = findField(found.item, r)
    if (!target) {
        const name = r.section !== undefined ? `${r.section}/${r.field}` : r.field
        throw wrap(`item '${r.vault}/${r.item}' does not have a field '${name}'`)
    }
    let value
    if (target.file) {
        const f = target.file
        const content = Buffer.from(f.content ?? "", "base64")
        const attrs = { content, size: String(content.length), id: f.id, name: f.name, type: "file" }
        const attr = (r.attribute ?? "content").toLowerCase()
        if (!(attr in attrs)) throw wrap(`invalid attribute '${r.attribute}' for a file: use one of content, size, id, name, type`)
        value = attrs[attr]
    } else {
        const f = target.field
        const attr = (r.attribute ?? "value").toLowerCase()
        if (attr === "value") value = f.value ?? ""
        else if (attr === "type") value = String(f.type ?? "STRING").toLowerCase()
        else if (attr === "id") value = f.id
        else if (attr === "purpose") value = String(f.purpose ?? "").toLowerCase()
        else if (attr === "otp") {
            if (f.type !== "OTP") throw wrap(`field '${r.field}' is not a one-time password field`)
            value = totp(f.value ?? "")
        } else throw wrap(`invalid attribute '${r.attribute}': use one of value, type, id, purpose, otp`)
        if (r.sshFormat !== undefined) {
            const openssh = f.ssh_formats?.openssh?.value
            if (r.sshFormat.toLowerCase() !== "openssh" || openssh === undefined) throw wrap(`ssh-format '${r.sshFormat}' is not available for field '${r.field}'`)
            value = openssh
        }
    }
    return Buffer.isBuffer(value) ? value : Buffer.from(value, "utf8")
}

/**
 * `-o FILE`: the file gets the value as is; `--file-mode` (octal, default 0600) applies
 * when the file is created. op prompts before overwriting; with no terminal the
 * stand-in refuses unless `-f` ([?] choice). Stdout is the absolute path ([?] per op-js).
 */
export function writeOutFile(ctx, file, bytes) {
    const path = resolvePath(file)
    const exists = existsSync(path)
    if (exists && !ctx.flags.force) throw new OpFail(`the file ${path} already exists; use --force to overwrite it`)
    const modeText = ctx.flags["file-mode"] ?? "0600"
    if (!/^0?[0-7]{3,4}$/.test(modeText)) throw new OpFail(`invalid argument "${modeText}" for "--file-mode" flag: invalid file mode`)
    const mode = parseInt(modeText, 8)
    if (exists) writeFileSync(path, bytes)
    else writeFileSync(path, bytes, { mode, flag: "wx" })
    return `${path}\n`
}

function parseFieldSpecs(text) {
    return text.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
        const m = /^(label|type)=(.*)$/i.exec(s)
        return m ? { kind: m[1].toLowerCase(), name: m[2] } : { kind: "label", name: s }
    })
}

function selectFields(item, specs) {
    const fields = item.fields ?? []
    const lc = (x) => String(x ?? "").toLowerCase()
    const out = []
    for (const spec of specs) {
        let hits
        if (spec.kind === "type") hits = fields.filter((f) => lc(f.type) === lc(spec.name))
        else {
            hits = fields.filter((f) => lc(f.label) === lc(spec.name) || lc(f.id) === lc(spec.name))
            const dot = spec.name.indexOf(".")
            if (hits.length === 0 && dot > 0) {
                // `label=<section>.<field>` (kamal): the section label, then the field.
                const sec = lc(spec.name.slice(0, dot))
                const name = lc(spec.name.slice(dot + 1))
                const ids = new Set((item.sections ?? []).filter((s) => lc(s.label) === sec || lc(s.id) === sec).map((s) => s.id))
                hits = fields.filter((f) => f.section?.id && ids.has(f.section.id) && (lc(f.label) === name || lc(f.id) === name))
            }
            hits = hits.slice(0, 1)
        }
        for (const h of hits) if (!out.includes(h)) out.push(h)
    }
    return out
}

export function itemGet(ctx) {
    const spec = ctx.args[0]
    if (spec === undefined) throw new OpFail(`expected exactly 1 argument, got 0\nUsage:  ${ctx.usage}`)
    needVault(ctx, ctx.flags.vault)
    const { vault, item } = findItem(ctx.store, ctx.auth, spec, ctx.flags.vault, includeArchive(ctx))
    const json = ctx.flags.format === "json"
    if (ctx.flags.otp) {
        const f = (item.fields ?? []).find((x) => x.type === "OTP" && x.value)
        // [?] text for an item without an OTP field: stand-in choice.
        if (!f) throw new OpFail(`item '${vault.name}/${item.title}' does not have a one-time password field`)
        return `${totp(f.value)}\n`
    }
    if (ctx.flags.fields !== undefined) {
        const hits = selectFields(item, parseFieldSpecs(ctx.flags.fields))
        // [?] `--fields` matching nothing is not captured; the stand-in fails like `read`.
        if (hits.length === 0) throw new OpFail(`item '${vault.name}/${item.title}' does not have a field '${ctx.flags.fields}'`)
        if (json) {
            const rendered = hits.map((f) => renderField(vault, item, f))
            return opJson(rendered.length === 1 ? rendered[0] : rendered)
        }
        return hits.map((f) => (f.type === "CONCEALED" && !ctx.flags.reveal && f.value ? CONCEALED_TEXT(item.id) : (f.value ?? ""))).join(",") + "\n"
    }
    const rendered = renderItem(vault, item)
    if (json) return opJson(rendered)
    return humanItem(ctx, rendered)
}

function humanItem(ctx, it) {
    const lines = [
        `ID:          ${it.id}`, `Title:       ${it.title}`, `Vault:       ${it.vault.name} (${it.vault.id})`,
        `Created:     ${it.created_at}`, `Updated:     ${it.updated_at}`, `Favorite:    ${it.favorite ? "true" : "false"}`,
        `Version:     ${it.version}`, `Category:    ${it.category}`,
    ]
    if (it.fields) {
        lines.push("Fields:")
        for (const f of it.fields) {
            const v = f.type === "CONCEALED" && !ctx.flags.reveal && f.value ? CONCEALED_TEXT(it.id) : (f.value ?? "")
            lines.push(`  ${f.label ?? f.id}:${" ".repeat(Math.max(1, 12 - (f.label ?? f.id).length))}${v}`)
        }
    }
    return lines.join("\n") + "\n"
}

export function itemList(ctx) {
    const vaults = ctx.flags.vault !== undefined ? [findVault(ctx.store, ctx.auth, ctx.flags.vault)] : visibleVaults(ctx.store, ctx.auth)
    const cats = ctx.flags.categories !== undefined ? ctx.flags.categories.split(",").filter((c) => c.trim()).map((c) => normalizeCategory(c).out) : undefined
    const tags = ctx.flags.tags !== undefined ? ctx.flags.tags.split(",").map((t) => t.trim()).filter((t) => t) : undefined
    const out = []
    for (const vault of vaults) {
        for (const item of vault.items) {
            if (item.archived && !includeArchive(ctx)) continue
            if (cats && !cats.includes(item.category)) continue
            if (ctx.flags.favorite && !item.favorite) continue
            // A tag also matches nested `tag/subtag` (§3).
            if (tags && !tags.some((t) => (item.tags ?? []).some((x) => x.toLowerCase() === t.toLowerCase() || x.toLowerCase().startsWith(t.toLowerCase() + "/")))) continue
            out.push(renderSummary(vault, item))
        }
    }
    if (ctx.flags.format === "json") return opJson(out)
    return table([["ID", "TITLE", "VAULT", "EDITED"], ...out.map((i) => [i.id, i.title, i.vault.name, i.updated_at ?? ""])])
}

/** The template from piped stdin or `--template` (never both: §4). */
function readTemplate(ctx) {
    const piped = ctx.stdin !== null && ctx.stdin.length > 0
    if (piped && ctx.flags.template !== undefined) throw new OpFail("cannot use both piped input and the --template flag")
    if (piped) {
        let t
        try {
            t = JSON.parse(ctx.stdin.toString("utf8"))
        } catch {
            throw new OpFail("unable to process line 1: invalid JSON in piped input")
        }
        return fromTemplate(t)
    }
    if (ctx.flags.template !== undefined) {
        let text
        try {
            text = readFileSync(ctx.flags.template, "utf8")
        } catch {
            throw new OpFail(`unable to read the template file ${ctx.flags.template}`)
        }
        try {
            return fromTemplate(JSON.parse(text))
        } catch {
            throw new OpFail(`unable to process the template file ${ctx.flags.template}: invalid JSON`)
        }
    }
    return undefined
}

function assignments(args) {
    return args.map(parseAssignment)
}

function splitTags(text) {
    return text.split(",").map((t) => t.trim()).filter((t) => t !== "")
}

function defaultVault(ctx) {
    const v = visibleVaults(ctx.store, ctx.auth).find((x) => x.type === "PERSONAL" || x.type === "EMPLOYEE" || /^(private|personal|employee)$/i.test(x.name))
    // [?] op's text when no default vault exists is not captured; stand-in choice.
    if (!v) throw new OpFail("no default vault found: specify a vault with the --vault flag")
    return v
}

function output(ctx, vault, item) {
    const rendered = renderItem(vault, item)
    return ctx.flags.format === "json" ? opJson(rendered) : humanItem(ctx, rendered)
}

const PASSWORD_REQUIRED =
    'unable to process line 1: Validation: (validateVaultItem failed to Validate), Couldn\'t validate the item: "[ItemValidator] has found 1 errors, 0 warnings: \\nErrors:{1. Password item requires ps value}"'

export function itemCreate(ctx) {
    let args = ctx.args
    if (args[0] === "-") args = args.slice(1)
    if (ctx.args[0] === "-" && (ctx.stdin === null || ctx.stdin.length === 0)) throw new OpFail("expected item JSON on stdin")
    const template = readTemplate(ctx)
    const vaultSpec = ctx.flags.vault ?? template?.vault
    needVault(ctx, vaultSpec)
    const vault = vaultSpec !== undefined ? findVault(ctx.store, ctx.auth, vaultSpec) : defaultVault(ctx)
    const catText = ctx.flags.category ?? template?.category
    // [?] op's text for a missing category is not captured; stand-in choice.
    if (catText === undefined) throw new OpFail("a category must be specified with the --category flag or in a template")
    const category = normalizeCategory(catText)
    const t = now()
    const stamp = utcStamp(t)
    const item = {
        id: newId(),
        title: ctx.flags.title ?? template?.title ?? `Untitled ${category.display} item`,
        category: category.out,
        version: 1,
        favorite: ctx.flags.favorite ?? template?.favorite ?? false,
        tags: ctx.flags.tags !== undefined ? splitTags(ctx.flags.tags) : (template?.tags ?? []),
        archived: false,
        created_at: stamp,
        updated_at: stamp,
        last_edited_by: ctx.store.auth?.account?.user_uuid ?? "",
        urls: template?.urls ?? [],
        sections: template?.sections ?? [],
        fields: builtinFields(category.out),
        files: [],
    }
    for (const f of template?.fields ?? []) {
        const i = item.fields.findIndex((b) => b.id === f.id)
        const given = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined))
        // A template field with a built-in's id fills that field; its type and purpose stay.
        if (i >= 0) item.fields[i] = { ...item.fields[i], ...given, type: item.fields[i].type, purpose: item.fields[i].purpose }
        else item.fields.push({ ...given, type: f.type ?? "STRING", label: f.label ?? "" })
    }
    if (ctx.flags.url !== undefined) item.urls = [{ label: "website", primary: true, href: ctx.flags.url }]
    if (ctx.flags["generate-password"] !== undefined) {
        if (category.out !== "LOGIN" && category.out !== "PASSWORD") throw new OpFail("password generation is only available for Login and Password items")
        setPassword(item, generatePassword(ctx.flags["generate-password"]))
    }
    for (const a of assignments(args)) applyAssignment(item, a)
    if (template && category.out === "PASSWORD" && !item.fields.some((f) => f.purpose === "PASSWORD" && f.value)) {
        throw new OpFail(PASSWORD_REQUIRED)
    }
    if (!ctx.flags["dry-run"]) {
        vault.items.push(item)
        vault.content_version = (vault.content_version ?? 1) + 1
        ctx.save()
    }
    return output(ctx, vault, item)
}

export function itemEdit(ctx) {
    const spec = ctx.args[0]
    if (spec === undefined) throw new OpFail(`expected at least 1 argument, got 0\nUsage:  ${ctx.usage}`)
    const { vault, item: stored } = findItem(ctx.store, ctx.auth, spec, ctx.flags.vault, includeArchive(ctx))
    const item = structuredClone(stored)
    const template = readTemplate(ctx)
    if (template) {
        // A template replaces the item's content; ids, vault and dates stay (§4).
        if (template.title !== undefined) item.title = template.title
        if (template.category !== undefined) item.category = normalizeCategory(template.category).out
        if (template.tags !== undefined) item.tags = template.tags
        if (template.urls !== undefined) item.urls = template.urls
        if (template.favorite !== undefined) item.favorite = template.favorite
        item.sections = template.sections
        item.fields = template.fields.map((f) => ({ ...f, type: f.type ?? "STRING", label: f.label ?? f.id }))
    }
    if (ctx.flags.title !== undefined) item.title = ctx.flags.title
    if (ctx.flags.tags !== undefined) item.tags = splitTags(ctx.flags.tags)
    if (ctx.flags.favorite !== undefined) item.favorite = ctx.flags.favorite
    if (ctx.flags.url !== undefined) {
        const others = (item.urls ?? []).filter((u) => !u.primary)
        item.urls = [{ label: "website", primary: true, href: ctx.flags.url }, ...others]
    }
    if (ctx.flags["generate-password"] !== undefined) setPassword(item, generatePassword(ctx.flags["generate-password"]))
    for (const a of assignments(ctx.args.slice(1))) applyAssignment(item, a)
    item.version = (item.version ?? 1) + 1
    item.updated_at = localNanoStamp(now())
    item.last_edited_by = ctx.store.auth?.account?.user_uuid ?? item.last_edited_by
    if (!ctx.flags["dry-run"]) {
        vault.items[vault.items.indexOf(stored)] = item
        vault.content_version = (vault.content_version ?? 1) + 1
        ctx.save()
    }
    return output(ctx, vault, item)
}

export function itemDelete(ctx) {
    const spec = ctx.args[0]
    if (spec === undefined) throw new OpFail(`expected exactly 1 argument, got 0\nUsage:  ${ctx.usage}`)
    needVault(ctx, ctx.flags.vault)
    const { vault, item } = findItem(ctx.store, ctx.auth, spec, ctx.flags.vault, includeArchive(ctx))
    if (ctx.flags.archive) item.archived = true
    else vault.items = vault.items.filter((i) => i !== item)
    vault.content_version = (vault.content_version ?? 1) + 1
    ctx.save()
    return ""
}

export function envLs(ctx) {
    return Object.entries(ctx.env).filter(([, v]) => typeof v === "string" && v.startsWith("op://")).map(([k]) => k + "\n").join("")
}

