/**
 * Owner and group names → numeric ids for deployed files, read from the
 * target tree's own `etc/passwd` and `etc/group` (so an image built with
 * `--root` gets the image's ids, not the build machine's), else the host's.
 *
 * Files only: no NSS, so users that exist only in LDAP, SSSD or systemd's
 * DynamicUser cannot be named (use a numeric id, as sops-nix #597/#717 ask). A
 * name that is not found is an error naming the entry, raised before anything is
 * written: a secret deployed to root because its owner was misspelt would lock
 * the service out, or worse, be readable by whoever gets that name later.
 */
import { readFile } from "node:fs/promises"
import { join } from "node:path"

import type { Account } from "../config/deploy-manifest.js"
import { ExitCode, SecretsError, quote } from "../errors.js"

/** An owner or group: a name, or a numeric id used as is (also as the deploy manifest parses them). */
export type AccountRef = string | number | Account

export interface AccountDatabase {
    /** user name → uid (the first line that names it wins, as getpwnam over files does) */
    readonly users: ReadonlyMap<string, number>
    readonly groups: ReadonlyMap<string, number>
    /** The files read, for messages. */
    readonly passwdFile: string
    readonly groupFile: string
}

const MAX_ID = 0xfffffffe
/** Enough for any real passwd file; bounds the work a hostile one can cause. */
const MAX_FILE_BYTES = 64 * 1024 * 1024

/**
 * The accounts of the tree at `root`: `<root>/etc/passwd` and `<root>/etc/group`
 * when there is such a file (each separately), else `/etc/passwd` and `/etc/group`.
 */
export async function loadAccounts(root: string): Promise<AccountDatabase> {
    const [passwd, group] = await Promise.all([readFirst([join(root, "etc/passwd"), "/etc/passwd"]), readFirst([join(root, "etc/group"), "/etc/group"])])
    const users = parseIdFile(passwd.text, 2)
    const groups = parseIdFile(group.text, 2)
    // Id 0 is root by definition, even in a tree without etc/passwd yet.
    if (!users.has("root")) users.set("root", 0)
    if (!groups.has("root")) groups.set("root", 0)
    return { users, groups, passwdFile: passwd.path, groupFile: group.path }
}

/** The uid of `owner`; `where` names the entry and field in the error (`.sops.yaml: secrets.deploy.web1[0] ("db").owner`). */
export function resolveUser(db: AccountDatabase, owner: AccountRef, where: string): number {
    return resolve(db.users, owner, where, "user", db.passwdFile)
}

/** The gid of `group`; as {@link resolveUser}. */
export function resolveGroup(db: AccountDatabase, group: AccountRef, where: string): number {
    return resolve(db.groups, group, where, "group", db.groupFile)
}

function resolve(ids: ReadonlyMap<string, number>, ref: AccountRef, where: string, what: "user" | "group", file: string): number {
    const name = typeof ref === "object" ? (ref.kind === "name" ? ref.name : undefined) : typeof ref === "string" && !/^[0-9]+$/.test(ref) ? ref : undefined
    if (name === undefined) {
        const numeric = typeof ref === "object" ? (ref.kind === "id" ? ref.id : Number.NaN) : Number(ref)
        if (Number.isInteger(numeric) && numeric >= 0 && numeric <= MAX_ID) return numeric
        throw new SecretsError(ExitCode.Generic, `${where}: ${String(numeric)} is not a valid numeric ${what === "user" ? "uid" : "gid"} (0 to ${MAX_ID})`)
    }
    const id = ids.get(name)
    if (id !== undefined) return id
    throw new SecretsError(ExitCode.Generic, `${where}: no ${what} ${quote(name)} in ${quote(file)}`, [
        `create the ${what} first (${what === "user" ? "useradd" : "groupadd"}), or give a numeric ${what === "user" ? "uid" : "gid"}; users known only to LDAP/SSSD/NSS are not looked up`,
    ])
}

/**
 * `name:x:id:…` lines → name → id, the id in field `field` (2 for both passwd
 * and group). Comments, blank lines, NIS compat lines (`+`/`-`) and lines
 * without a valid id are skipped, as glibc's files backend skips them.
 */
export function parseIdFile(text: string, field: number): Map<string, number> {
    const ids = new Map<string, number>()
    for (const line of text.split("\n")) {
        if (line === "" || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue
        const fields = line.split(":")
        const name = fields[0] ?? ""
        const id = fields[field] ?? ""
        if (name === "" || !/^[0-9]{1,10}$/.test(id) || Number(id) > MAX_ID || ids.has(name)) continue
        ids.set(name, Number(id))
    }
    return ids
}

async function readFirst(paths: readonly string[]): Promise<{ path: string; text: string }> {
    for (const path of paths) {
        try {
            const data = await readFile(path)
            if (data.length > MAX_FILE_BYTES) throw new SecretsError(ExitCode.CouldNotReadInputFile, `${quote(path)} is larger than ${MAX_FILE_BYTES} bytes`)
            return { path, text: data.toString("utf8") }
        } catch (e) {
            if ((e as { code?: unknown }).code !== "ENOENT") {
                if (e instanceof SecretsError) throw e
                throw new SecretsError(ExitCode.CouldNotReadInputFile, `could not read ${quote(path)}: ${String((e as { code?: unknown }).code ?? "error")}`)
            }
        }
    }
    // No passwd at all (a minimal container): only numeric ids and nothing by name.
    return { path: paths[0] ?? "/etc/passwd", text: "" }
}
