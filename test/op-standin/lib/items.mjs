// Building and changing items for `item create` / `item edit` (op-cli.md §4):
// categories, built-in fields, JSON templates, assignment statements with escapes and
// `[type]`, `[delete]`, generated passwords.
import { randomInt } from "node:crypto"
import { readFileSync } from "node:fs"
import { basename } from "node:path"
import { newId, OpFail } from "./common.mjs"

/** Input category name (spaces, case, `_` ignored) → output category and display name. */
const CATEGORIES = {}
for (const [out, display] of [
    ["LOGIN", "Login"], ["PASSWORD", "Password"], ["API_CREDENTIAL", "API Credential"], ["SECURE_NOTE", "Secure Note"],
    ["DATABASE", "Database"], ["SERVER", "Server"], ["SSH_KEY", "SSH Key"], ["DOCUMENT", "Document"],
    ["CREDIT_CARD", "Credit Card"], ["IDENTITY", "Identity"], ["BANK_ACCOUNT", "Bank Account"], ["EMAIL_ACCOUNT", "Email Account"],
    ["MEMBERSHIP", "Membership"], ["PASSPORT", "Passport"], ["DRIVER_LICENSE", "Driver License"], ["OUTDOOR_LICENSE", "Outdoor License"],
    ["REWARD_PROGRAM", "Reward Program"], ["SOCIAL_SECURITY_NUMBER", "Social Security Number"], ["SOFTWARE_LICENSE", "Software License"],
    ["WIRELESS_ROUTER", "Wireless Router"], ["MEDICAL_RECORD", "Medical Record"], ["CRYPTO_WALLET", "Crypto Wallet"],
]) {
    CATEGORIES[out.replace(/_/g, "").toLowerCase()] = { out, display }
}

/** "The category value is case-insensitive and ignores whitespace characters" (§4). */
export function normalizeCategory(text) {
    const c = CATEGORIES[String(text).replace(/[\s_]/g, "").toLowerCase()]
    // [?] op's text for an unknown category is not captured; stand-in choice.
    if (!c) throw new OpFail(`"${text}" isn't a valid category. Run 'op item template list' to see the available categories.`)
    return c
}

const builtin = (id, type, purpose) => ({ id, type, purpose, label: id, value: "" })
const NOTES = () => builtin("notesPlain", "STRING", "NOTES")

/** The built-in fields a new item of a category starts with (values empty). */
export function builtinFields(category) {
    switch (category) {
        case "LOGIN": return [builtin("username", "STRING", "USERNAME"), builtin("password", "CONCEALED", "PASSWORD"), NOTES()]
        case "PASSWORD": return [builtin("password", "CONCEALED", "PASSWORD"), NOTES()]
        case "API_CREDENTIAL": return [{ ...builtin("username", "STRING") }, { ...builtin("credential", "CONCEALED") }, NOTES()]
        default: return [NOTES()]
    }
}

/** Assignment `[type]` → field type (§4; `concealed` as op-js lists it). */
const TYPES = {
    password: "CONCEALED", concealed: "CONCEALED", text: "STRING", string: "STRING", email: "EMAIL", url: "URL",
    date: "DATE", monthyear: "MONTH_YEAR", phone: "PHONE", otp: "OTP", file: "FILE",
}

/**
 * Parse `[<section>.]<field>[[<type>]][=<value>]`: `\.`, `\=` and `\\` escape in the
 * names; the value is taken as is (§4).
 */
export function parseAssignment(text) {
    const names = [""]
    let type
    let value
    let i = 0
    for (; i < text.length; i++) {
        const c = text[i]
        if (c === "\\" && i + 1 < text.length) {
            names[names.length - 1] += text[++i]
        } else if (c === "=") {
            value = text.slice(i + 1)
            break
        } else if (c === "." && names.length === 1 && type === undefined) {
            names.push("")
        } else if (c === "[" && type === undefined) {
            const end = text.indexOf("]", i)
            if (end < 0) throw new OpFail(`invalid assignment statement "${redact(text)}"`)
            type = text.slice(i + 1, end)
            i = end
        } else {
            names[names.length - 1] += c
        }
    }
    const [section, field] = names.length === 2 ? names : [undefined, names[0]]
    if (type !== undefined && type !== "delete" && !TYPES[type.toLowerCase()]) {
        throw new OpFail(`"${type}" isn't a valid field type`)
    }
    return { section, field, type: type?.toLowerCase(), value }
}

/** Error texts show the assignment without its value (the value may be a secret). */
function redact(text) {
    const eq = text.indexOf("=")
    return eq < 0 ? text : text.slice(0, eq + 1) + "…"
}

const ci = (a, b) => typeof a === "string" && a.toLowerCase() === String(b).toLowerCase()

/** Apply one assignment to `item` (mutates it); an untyped new field is CONCEALED (§4). */
export function applyAssignment(item, a) {
    item.fields ??= []
    item.sections ??= []
    let section
    if (a.section !== undefined && a.section !== "") {
        section = item.sections.find((s) => ci(s.label, a.section) || s.id === a.section)
        if (!section && a.type !== "delete") {
            section = { id: `Section_${newId()}`, label: a.section }
            item.sections.push(section)
        }
    }
    const named = (f) => ci(f.label, a.field) || f.id === a.field
    let field
    if (section) field = item.fields.find((f) => f.section?.id === section.id && named(f))
    else if (a.section === undefined || a.section === "") {
        // The section is optional unless the name is ambiguous (§4): top level first.
        field = item.fields.find((f) => !f.section?.id && named(f)) ?? item.fields.find(named)
    }
    if (a.type === "delete") {
        if (!field) throw new OpFail(`"${a.section ? a.section + "." : ""}${a.field}" isn't a field in the "${item.title}" item`)
        if (field.purpose || ["username", "password", "notesPlain", "credential"].includes(field.id)) {
            // Built-ins cannot be deleted, only emptied (§4). [?] text is a stand-in choice.
            throw new OpFail(`cannot delete the built-in field "${a.field}"; assign it an empty value instead`)
        }
        item.fields = item.fields.filter((f) => f !== field)
        const sid = field.section?.id
        if (sid && !item.fields.some((f) => f.section?.id === sid) && !(item.files ?? []).some((f) => f.section?.id === sid)) {
            item.sections = item.sections.filter((s) => s.id !== sid)
        }
        return
    }
    if (a.type === "file") {
        const path = a.value ?? ""
        let content
        try {
            content = readFileSync(path).toString("base64")
        } catch {
            throw new OpFail(`cannot read file "${path}"`)
        }
        item.files ??= []
        item.files.push({ id: newId(), name: a.field || basename(path), content, section: section ? { id: section.id } : undefined })
        return
    }
    if (!field) {
        field = { id: newId(), type: TYPES[a.type ?? "password"], label: a.field, value: "" }
        if (section) field.section = { id: section.id }
        item.fields.push(field)
    } else if (a.type !== undefined && !field.purpose) {
        field.type = TYPES[a.type]
    }
    if (a.value !== undefined) field.value = a.value
}

/**
 * Turn a JSON template (the `item get` shape) into item parts. Fields keep their ids
 * (new ones get one), derived keys such as `reference` are dropped.
 */
export function fromTemplate(t) {
    if (t === null || typeof t !== "object" || Array.isArray(t)) throw new OpFail("unable to process line 1: invalid JSON in piped input")
    const sections = (t.sections ?? []).map((s) => ({ id: s.id ?? `Section_${newId()}`, label: s.label }))
    const fields = (t.fields ?? []).map((f) => {
        const field = { id: f.id || newId(), type: f.type, label: f.label, value: f.value ?? "" }
        if (f.purpose) field.purpose = f.purpose
        if (f.section?.id) {
            field.section = { id: f.section.id }
            if (!sections.some((s) => s.id === f.section.id)) sections.push({ id: f.section.id, label: f.section.label })
        }
        return field
    })
    return {
        title: t.title,
        category: t.category,
        vault: t.vault?.id ?? t.vault?.name,
        tags: t.tags,
        urls: t.urls,
        favorite: t.favorite,
        sections,
        fields,
    }
}

/** A generated password from a recipe like `letters,digits,symbols,32` (§4). */
export function generatePassword(recipe) {
    const parts = recipe ? recipe.split(",").map((p) => p.trim().toLowerCase()) : ["letters", "digits", "symbols", "32"]
    let pool = ""
    let length = 32
    for (const p of parts) {
        if (p === "letters") pool += "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        else if (p === "digits") pool += "0123456789"
        else if (p === "symbols") pool += "!@.-_*"
        else if (/^\d+$/.test(p)) length = Number(p)
        else throw new OpFail(`invalid password recipe "${recipe}"`)
    }
    if (length < 1 || length > 64) throw new OpFail(`invalid password recipe "${recipe}": length must be between 1 and 64`)
    if (!pool) pool = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    let s = ""
    for (let i = 0; i < length; i++) s += pool[randomInt(pool.length)]
    return s
}

/** The item's password field (built-in), created if missing. */
export function setPassword(item, value) {
    item.fields ??= []
    let f = item.fields.find((x) => x.purpose === "PASSWORD" || (x.id === "password" && !x.section?.id))
    if (!f) {
        f = builtin("password", "CONCEALED", "PASSWORD")
        item.fields.push(f)
    }
    f.value = value
}
