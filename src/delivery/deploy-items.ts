/**
 * What a generation is built from: one item per file, its bytes already
 * decrypted or rendered in memory (nothing is decrypted once a generation
 * directory exists, deploy-anchors.md §1.6), with numeric owner and group
 * (accounts.ts resolves names first).
 *
 * The deploy manifest is validated where it is parsed (config/deploy-manifest.ts);
 * the same bounds are checked again here because this is the code that writes as
 * root, and a caller other than `deploy` (a test, an API user) must not be able
 * to write outside the generation, over its manifest, or a setuid file.
 */
import { ExitCode, SecretsError, quote } from "../errors.js"
import { MANIFEST_NAME } from "./generation-manifest.js"
import { checkLinkPath } from "./path-links.js"

export interface DeployItem {
    /** Relative path inside the generation: "db-password", "nginx/site.conf". */
    readonly name: string
    readonly content: Uint8Array
    readonly uid: number
    readonly gid: number
    /** Permission bits, at most 0777 (no setuid, setgid or sticky bit). */
    readonly mode: number
    /** Absolute host path of a symlink to `/run/secrets/<name>` (sops-nix's `path`). */
    readonly link?: string
    readonly restartUnits: readonly string[]
    readonly reloadUnits: readonly string[]
}

const SEGMENT = /^[A-Za-z0-9._@+-]+$/
const MAX_NAME = 255
const MAX_ID = 0xfffffffe

/** Throws a SecretsError naming the first item that could not be written safely. */
export function checkItems(items: readonly DeployItem[]): void {
    const names = new Set<string>()
    const links = new Map<string, string>()
    for (const item of items) {
        const bad = (why: string): SecretsError => new SecretsError(ExitCode.Generic, `deploy item ${quote(item.name)}: ${why}`)
        const segments = item.name.split("/")
        if (item.name.length === 0 || item.name.length > MAX_NAME || segments.some((s) => s === "." || s === ".." || !SEGMENT.test(s))) {
            throw bad("the name must be a relative path of [A-Za-z0-9._@+-] segments joined by \"/\", without \".\" or \"..\" segments")
        }
        if (segments[0]?.startsWith(MANIFEST_NAME) === true) throw bad(`${quote(MANIFEST_NAME)} is reserved for the generation's own manifest`)
        if (names.has(item.name)) throw bad("the name is used twice")
        names.add(item.name)
        if (!Number.isInteger(item.mode) || item.mode < 0 || item.mode > 0o777) throw bad("the mode must be permission bits from 0000 to 0777")
        for (const [what, id] of [["uid", item.uid], ["gid", item.gid]] as const) {
            if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw bad(`the ${what} must be a whole number from 0 to ${MAX_ID}`)
        }
        if (!(item.content instanceof Uint8Array)) throw bad("no content")
        if (item.link !== undefined) {
            checkLinkPath(item.link, item.name)
            const other = links.get(item.link)
            if (other !== undefined) throw bad(`its path ${quote(item.link)} is also the path of ${quote(other)}`)
            links.set(item.link, item.name)
        }
    }
    // "a" and "a/b" cannot both be: one would need "a" to be a file and a directory.
    for (const name of names) {
        const segments = name.split("/")
        for (let i = 1; i < segments.length; i++) {
            const prefix = segments.slice(0, i).join("/")
            if (names.has(prefix)) throw new SecretsError(ExitCode.Generic, `deploy item ${quote(name)}: it would be inside ${quote(prefix)}, which is a file of its own`)
        }
    }
}
