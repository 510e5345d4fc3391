// op's JSON shapes for items, fields, summaries and vaults (op-cli.md §3), derived
// from the store: keys in captured order, empty keys left out, `reference` built by
// the §1 rule, `additional_information` for logins, password strength, TOTP codes.
import { createHmac } from "node:crypto"
import { now } from "./common.mjs"

/** Characters a reference segment may use; anything else forces the ID (op-cli.md §1). */
const NAME_OK = /^[A-Za-z0-9 _.-]+$/

const seg = (name, id) => (name && NAME_OK.test(name) ? name : id)

/** The reference op prints for a field: vault name / item title / [section] / field. */
export function fieldReference(vault, item, field) {
    const parts = [seg(vault.name, vault.id), seg(item.title, item.id)]
    const section = sectionOf(item, field)
    if (section) parts.push(seg(section.label, section.id))
    parts.push(seg(field.label, field.id))
    return "op://" + parts.join("/")
}

/** The item's section object for a field, or undefined for a top-level field. */
export function sectionOf(item, field) {
    const sid = field.section?.id
    if (!sid) return undefined
    return (item.sections ?? []).find((s) => s.id === sid) ?? { id: sid }
}

const nonEmpty = (a) => (a && a.length > 0 ? a : undefined)

/** RFC 6238 TOTP (SHA-1, 30 s, 6 digits) from an otpauth URI or a bare base32 secret. */
export function totp(value, at = now()) {
    let secret = value
    const m = /[?&]secret=([^&]+)/i.exec(value)
    if (m) secret = decodeURIComponent(m[1])
    const clean = secret.replace(/[\s=-]/g, "").toUpperCase()
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    let bits = ""
    for (const c of clean) {
        const i = alphabet.indexOf(c)
        if (i >= 0) bits += i.toString(2).padStart(5, "0")
    }
    const bytes = []
    for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2))
    const counter = Buffer.alloc(8)
    counter.writeBigUInt64BE(BigInt(Math.floor(at.getTime() / 1000 / 30)))
    const h = createHmac("sha1", Buffer.from(bytes)).update(counter).digest()
    const off = h[h.length - 1] & 0xf
    const code = (h.readUInt32BE(off) & 0x7fffffff) % 1_000_000
    return String(code).padStart(6, "0")
}

function entropy(value) {
    let pool = 0
    if (/[a-z]/.test(value)) pool += 26
    if (/[A-Z]/.test(value)) pool += 26
    if (/[0-9]/.test(value)) pool += 10
    if (/[^A-Za-z0-9]/.test(value)) pool += 33
    return Math.round(value.length * Math.log2(Math.max(pool, 2)) * 100) / 100
}

/** One field as op prints it (keys in the captured order of op-cli.md §3). */
export function renderField(vault, item, field) {
    const section = sectionOf(item, field)
    const value = field.value === "" || field.value === null ? undefined : field.value
    const concealed = field.type === "CONCEALED" && value !== undefined
    const reference = fieldReference(vault, item, field)
    const openssh = field.ssh_formats?.openssh?.value
    return {
        id: field.id,
        section: section ? { id: section.id, label: section.label || undefined } : undefined,
        type: field.type ?? "STRING",
        purpose: field.purpose || undefined,
        label: field.label || undefined,
        value,
        totp: field.type === "OTP" && value !== undefined ? totp(value) : undefined,
        entropy: concealed ? entropy(value) : undefined,
        reference,
        password_details: concealed ? { strength: "GOOD" } : undefined,
        ssh_formats: openssh ? { openssh: { reference: `${reference}?ssh-format=openssh`, value: openssh } } : undefined,
    }
}

function additionalInformation(item) {
    if (item.additional_information) return item.additional_information
    if (item.category !== "LOGIN") return undefined
    const u = (item.fields ?? []).find((f) => f.purpose === "USERNAME" || f.id === "username")
    return u?.value || undefined
}

/** The item summary of `op item list` (no fields, no sections). */
export function renderSummary(vault, item) {
    return {
        id: item.id,
        title: item.title,
        favorite: item.favorite ? true : undefined,
        tags: nonEmpty(item.tags),
        version: item.version ?? 1,
        vault: { id: vault.id, name: vault.name },
        category: item.category,
        last_edited_by: item.last_edited_by,
        created_at: item.created_at,
        updated_at: item.updated_at,
        additional_information: additionalInformation(item),
        urls: nonEmpty((item.urls ?? []).map((u) => ({ label: u.label || undefined, primary: u.primary ? true : undefined, href: u.href }))),
    }
}

/** The whole item of `op item get --format json`. */
export function renderItem(vault, item) {
    const files = (item.files ?? []).map((f) => ({
        id: f.id,
        name: f.name,
        size: Buffer.from(f.content ?? "", "base64").length,
        content_path: `/v1/vaults/${vault.id}/items/${item.id}/files/${f.id}/content`,
        section: f.section?.id ? { id: f.section.id } : undefined,
    }))
    return {
        ...renderSummary(vault, item),
        sections: nonEmpty((item.sections ?? []).map((s) => ({ id: s.id, label: s.label || undefined }))),
        fields: nonEmpty((item.fields ?? []).map((f) => renderField(vault, item, f))),
        files: nonEmpty(files),
    }
}

/** `op vault get --format json`. */
export function renderVault(vault) {
    return {
        id: vault.id,
        name: vault.name,
        content_version: vault.content_version ?? 1,
        description: vault.description || undefined,
        attribute_version: vault.attribute_version ?? 1,
        items: vault.items.filter((i) => !i.archived).length,
        type: vault.type ?? "USER_CREATED",
        created_at: vault.created_at,
        updated_at: vault.updated_at,
    }
}
