import { createHash } from "node:crypto"
import { readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"

/**
 * The test API of the stand-in `op` (test/op-standin, issue 5): the store schema of
 * op-cli.md "Store schema", builders that fill ids and timestamps deterministically,
 * and {@link makeOpStandin}, which writes a store and gives the env that puts the
 * stand-in first on PATH.
 */

export const STANDIN_BIN_DIR = join(import.meta.dirname, "../op-standin/bin")
export const STANDIN_SCRIPT = join(import.meta.dirname, "../op-standin/op.mjs")

export interface StandinAccount {
    url: string
    email: string
    user_uuid: string
    account_uuid: string
    shorthand?: string
}

export interface StandinAuth {
    mode: "service_account" | "app" | "session" | "none"
    serviceAccountToken?: string
    sessionTokens?: Record<string, string>
    account: StandinAccount
}

export interface StandinSection {
    id: string
    label?: string
}

export interface StandinField {
    id: string
    type: string
    purpose?: string
    label?: string
    value?: string
    section?: { id: string } | null
    /** SSH keys: the OpenSSH form served for `?ssh-format=openssh`. */
    ssh_formats?: { openssh: { value: string } }
}

export interface StandinFile {
    id: string
    name: string
    /** base64 */
    content: string
    section?: { id: string } | null
}

export interface StandinUrl {
    label?: string
    primary?: boolean
    href: string
}

export interface StandinItem {
    id: string
    title: string
    category: string
    version: number
    favorite?: boolean
    tags?: string[]
    archived?: boolean
    created_at: string
    updated_at: string
    last_edited_by: string
    urls?: StandinUrl[]
    sections?: StandinSection[]
    fields?: StandinField[]
    files?: StandinFile[]
}

export interface StandinVault {
    id: string
    name: string
    content_version: number
    type: string
    created_at: string
    updated_at: string
    description?: string
    items: StandinItem[]
}

export interface StandinStore {
    auth: StandinAuth
    vaults: StandinVault[]
}

/** The fixed time every builder stamps (op prints `created_at` as UTC `Z`). */
export const STANDIN_TIME = "2024-01-02T03:04:05Z"
/** The account's user id, also every item's `last_edited_by`. */
export const STANDIN_USER_UUID = "5GHHPJK5HZC5BAT7WDUXW57G44"

/** A deterministic 26-character lowercase a-z0-9 id from a seed (op's CLI id shape). */
export function standinId(seed: string): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    const digest = createHash("sha256").update(seed).digest()
    let s = ""
    for (let i = 0; i < 26; i++) s += alphabet[(digest[i] ?? 0) % alphabet.length]
    return s
}

/** The default signed-in account. */
export function standinAccount(): StandinAccount {
    return {
        url: "https://my.1password.com/",
        email: "t@example.com",
        user_uuid: STANDIN_USER_UUID,
        account_uuid: "GRXJAN4BY5DPROISKYL55IRCPY",
        shorthand: "my",
    }
}

/** What a field builder takes: a built-in by `id` ("password") or a custom field by `label`. */
export interface FieldSpec {
    label: string
    value?: string
    /** Default: the built-in's type for a top-level `username`/`password`/`notesPlain`/`credential`, else STRING. */
    type?: string
    /** The section's label; the section is created on the item. */
    section?: string
    id?: string
    purpose?: string
}

const BUILTINS: Record<string, { type: string; purpose?: string }> = {
    username: { type: "STRING", purpose: "USERNAME" },
    password: { type: "CONCEALED", purpose: "PASSWORD" },
    notesPlain: { type: "STRING", purpose: "NOTES" },
    credential: { type: "CONCEALED" },
}

/** An item with deterministic ids (from vault-independent seeds) and timestamps. */
export function item(spec: {
    title: string
    category?: string
    fields?: FieldSpec[]
    tags?: string[]
    urls?: StandinUrl[]
    archived?: boolean
    favorite?: boolean
    id?: string
    files?: { name: string; content: string | Buffer; section?: string }[]
}): StandinItem {
    const id = spec.id ?? standinId(`item:${spec.title}`)
    const sections: StandinSection[] = []
    const sectionId = (label: string): string => {
        let s = sections.find((x) => x.label === label)
        if (!s) {
            s = { id: `Section_${standinId(`section:${id}:${label}`)}`, label }
            sections.push(s)
        }
        return s.id
    }
    const fields = (spec.fields ?? []).map((f): StandinField => {
        const builtin = f.section === undefined ? BUILTINS[f.label] : undefined
        const field: StandinField = {
            id: f.id ?? (builtin ? f.label : standinId(`field:${id}:${f.section ?? ""}:${f.label}`)),
            type: f.type ?? builtin?.type ?? "STRING",
            label: f.label,
            value: f.value ?? "",
        }
        const purpose = f.purpose ?? builtin?.purpose
        if (purpose) field.purpose = purpose
        if (f.section !== undefined) field.section = { id: sectionId(f.section) }
        return field
    })
    const files = (spec.files ?? []).map((f): StandinFile => {
        const file: StandinFile = { id: standinId(`file:${id}:${f.name}`), name: f.name, content: Buffer.from(f.content).toString("base64") }
        if (f.section !== undefined) file.section = { id: sectionId(f.section) }
        return file
    })
    return {
        id,
        title: spec.title,
        category: spec.category ?? "LOGIN",
        version: 1,
        favorite: spec.favorite ?? false,
        tags: spec.tags ?? [],
        archived: spec.archived ?? false,
        created_at: STANDIN_TIME,
        updated_at: STANDIN_TIME,
        last_edited_by: STANDIN_USER_UUID,
        urls: spec.urls ?? [],
        sections,
        fields,
        files,
    }
}

/** A LOGIN item with the built-in username and password (and optional extra fields). */
export function loginItem(title: string, username: string, password: string, extra: FieldSpec[] = []): StandinItem {
    return item({ title, category: "LOGIN", fields: [{ label: "username", value: username }, { label: "password", value: password }, ...extra] })
}

/** A vault with a deterministic id. */
export function vault(name: string, items: StandinItem[] = [], opts: { type?: string; id?: string } = {}): StandinVault {
    return {
        id: opts.id ?? standinId(`vault:${name}`),
        name,
        content_version: 1,
        type: opts.type ?? "USER_CREATED",
        created_at: STANDIN_TIME,
        updated_at: STANDIN_TIME,
        items,
    }
}

/**
 * A store signed in through the desktop app (auth.mode "app") with one empty vault
 * "Dev", unless `partial` says otherwise (auth fields are merged, vaults replaced).
 */
export function seedStore(partial: { auth?: Partial<StandinAuth>; vaults?: StandinVault[] } = {}): StandinStore {
    return {
        auth: { mode: "app", ...partial.auth, account: { ...standinAccount(), ...partial.auth?.account } },
        vaults: partial.vaults ?? [vault("Dev")],
    }
}

/** One call as the stand-in logged it. */
export interface StandinCall {
    argv: string[]
    env: Record<string, string>
    stdinBytes: number
}

export interface OpStandin {
    /** PATH with the stand-in first, OP_STANDIN_STORE, OP_STANDIN_LOG, OP_STANDIN_NODE. Merge into runCli's env. */
    env: Record<string, string>
    storePath: string
    logPath: string
    readStore(): Promise<StandinStore>
    writeStore(s: StandinStore): Promise<void>
    readLog(): Promise<StandinCall[]>
    /** True when `text` appears in any logged argv word (a secret must never). */
    argvMentions(text: string): Promise<boolean>
}

/** Write `store` into `dir` and return the stand-in's env and accessors. */
export async function makeOpStandin(dir: string, store: StandinStore): Promise<OpStandin> {
    const storePath = join(dir, "op-standin-store.json")
    const logPath = join(dir, "op-standin-log.jsonl")
    const writeStore = async (s: StandinStore): Promise<void> => {
        const tmp = `${storePath}.tmp`
        await writeFile(tmp, JSON.stringify(s, null, 2) + "\n")
        await rename(tmp, storePath)
    }
    await writeStore(store)
    await writeFile(logPath, "")
    const readLog = async (): Promise<StandinCall[]> => {
        const text = await readFile(logPath, "utf8")
        return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as StandinCall)
    }
    return {
        env: {
            PATH: `${STANDIN_BIN_DIR}:${process.env.PATH ?? "/usr/bin:/bin"}`,
            OP_STANDIN_STORE: storePath,
            OP_STANDIN_LOG: logPath,
            OP_STANDIN_NODE: process.execPath,
        },
        storePath,
        logPath,
        readStore: async () => JSON.parse(await readFile(storePath, "utf8")) as StandinStore,
        writeStore,
        readLog,
        argvMentions: async (text) => (await readLog()).some((c) => c.argv.some((a) => a.includes(text))),
    }
}
