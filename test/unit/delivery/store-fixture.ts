/**
 * Helpers for the generation store tests: a store under a fresh --root, items,
 * and a snapshot of a tree (every entry's type, mode, owner, link text and
 * content hash) to prove that something was left byte-identical.
 */
import { createHash } from "node:crypto"
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs"
import { join } from "node:path"

import type { DeployItem, GenerationStore } from "../../../src/delivery/generations.js"
import { run, tempDir } from "../../helpers/tmp.js"

export function newStore(keep = 3, base: GenerationStore["base"] = "secrets"): GenerationStore {
    return { root: tempDir(), base, keep }
}

export function item(name: string, content: string, more: Partial<DeployItem> = {}): DeployItem {
    return { name, content: Buffer.from(content), uid: 0, gid: 0, mode: 0o400, restartUnits: [], reloadUnits: [], ...more }
}

/** "path type mode uid:gid hash-or-link" per entry under `dir`, sorted; following no link. */
export function snapshot(dir: string): string[] {
    const lines: string[] = []
    const walk = (at: string, rel: string): void => {
        const st = lstatSync(at)
        const head = `${rel} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`
        if (st.isSymbolicLink()) lines.push(`${head} link ${readlinkSync(at)}`)
        else if (st.isFile()) lines.push(`${head} file ${createHash("sha256").update(readFileSync(at)).digest("hex")}`)
        else if (st.isDirectory()) {
            lines.push(`${head} dir`)
            for (const name of readdirSync(at).sort()) walk(join(at, name), `${rel}/${name}`)
        } else lines.push(`${head} other`)
    }
    walk(dir, ".")
    return lines
}

/** Real accounts of this machine (Debian: daemon 1:1, nobody 65534, group nogroup 65534), read by id(1). */
export const DAEMON = { uid: Number(run("id", ["-u", "daemon"]).toString()), gid: Number(run("id", ["-g", "daemon"]).toString()) }
export const NOBODY = { uid: Number(run("id", ["-u", "nobody"]).toString()), gid: Number(run("id", ["-g", "nobody"]).toString()) }
