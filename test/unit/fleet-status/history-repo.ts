/**
 * A git repository whose sops files go through the changes key-age reads: new data
 * keys, edits under the same key, re-wraps that add or drop a recipient (the key
 * stays), a re-wrap to all new recipients (no block survives), plaintext, deletes,
 * renames, a path that becomes a directory, side branches merged either way round.
 * Files are sealed in-process with the engine (a CLI start per version would cost
 * seconds); commits carry the dates given. For the differential tests of
 * src/fleet/key-dates.ts against key-age.ts's keyDate.
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import type { AgeKey, KeyGroup } from "../../../src/core/metadata.js"
import { SOPS_VERSION } from "../../../src/core/metadata.js"
import { newDataKey } from "../../../src/core/datakey.js"
import { seal } from "../../../src/engine/seal.js"
import { ruleForNewFile } from "../../../src/engine/rules.js"
import { generateX25519Identity, wrapDataKey } from "../../../src/keys/age.js"
import { formatForPath, loadStore } from "../../../src/stores/index.js"
import { metadataFromTree } from "../../../src/stores/metadata.js"
import type { KeyDateFile } from "../../../src/fleet/key-dates.js"

/** How a write changes a file. */
export type WriteKind = "new" | "edit" | "add" | "drop" | "replace" | "plain" | "delete" | "dir"
export const WRITE_KINDS: readonly WriteKind[] = ["new", "edit", "add", "drop", "replace", "plain", "delete", "dir"]

/** Names with the characters a pathspec or a quoted log line would get wrong. */
export const NAMES = ["secrets/a.yaml", "secrets/b[1].yaml", "secrets/sp ace é.json", "secrets/c*.env", "secrets/sub/d.yaml"] as const

let recipients: string[] | undefined
/** The recipients files are sealed to: new keys go to the first two, re-wraps add the others. */
export async function fiveRecipients(): Promise<string[]> {
    recipients ??= await Promise.all([0, 1, 2, 3, 4].map(async () => (await generateX25519Identity()).recipient))
    return recipients
}

export class HistoryRepo {
    readonly dir: string
    readonly env: Record<string, string>
    /** Per path: the data key and the blocks its last sealed version carries. */
    private readonly keys = new Map<string, { key: Uint8Array; groups: KeyGroup[] }>()
    private edits = 0

    constructor(dir: string) {
        this.dir = dir
        this.env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1" }
        mkdirSync(dir, { recursive: true })
        this.git(["init", "-q", "-b", "main"])
        this.git(["config", "user.name", "T"])
        this.git(["config", "user.email", "t@example.org"])
    }

    git(args: string[], date?: string): string {
        return execFileSync("git", args, {
            cwd: this.dir,
            env: { ...this.env, ...(date !== undefined ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}) },
            stdio: ["ignore", "pipe", "pipe"],
        }).toString()
    }

    commit(date: string, message = "change"): void {
        this.git(["add", "-A"])
        this.git(["commit", "-q", "--allow-empty", "-m", message], date)
    }

    async write(path: string, kind: WriteKind): Promise<void> {
        const abs = join(this.dir, path)
        const rs = await fiveRecipients()
        if (kind === "delete" || kind === "dir") {
            rmSync(abs, { recursive: true, force: true })
            this.keys.delete(path)
            if (kind === "dir") {
                mkdirSync(abs, { recursive: true })
                writeFileSync(join(abs, "inner.yaml"), "x: 1\n")
            }
            return
        }
        if (existsSync(abs) && lstatSync(abs).isDirectory()) rmSync(abs, { recursive: true })
        mkdirSync(dirname(abs), { recursive: true })
        const format = formatForPath(abs)
        const store = await loadStore(format)
        const plainText = format === "json" ? `{"v": "${path}-${this.edits}"}` : format === "dotenv" ? `V=${this.edits}\n` : `v: ${this.edits}\n`
        this.edits++
        if (kind === "plain") {
            writeFileSync(abs, plainText)
            this.keys.delete(path)
            return
        }
        let k = this.keys.get(path)
        const wrap = async (key: Uint8Array, r: string): Promise<AgeKey> => ({ type: "age", recipient: r, enc: await wrapDataKey(r, key) })
        if (k === undefined || kind === "new") {
            const key = newDataKey()
            k = { key, groups: [[await wrap(key, rs[0] ?? ""), await wrap(key, rs[1] ?? "")]] }
        } else {
            const group = k.groups[0] ?? []
            const present = new Set(group.map((m) => (m.type === "age" ? m.recipient : "")))
            if (kind === "add") {
                const r = rs.find((x) => !present.has(x))
                if (r !== undefined) k = { key: k.key, groups: [[...group, await wrap(k.key, r)]] }
            } else if (kind === "drop" && group.length > 1) {
                k = { key: k.key, groups: [group.slice(0, -1)] }
            } else if (kind === "replace") {
                // Same data key, every block new: key-age counts it as a new key.
                const others = rs.filter((x) => !present.has(x)).slice(0, 2)
                k = { key: k.key, groups: [await Promise.all(others.map((r) => wrap(k?.key ?? new Uint8Array(32), r)))] }
            }
        }
        this.keys.set(path, k)
        const metadata = {
            keyGroups: k.groups,
            shamirThreshold: 0,
            lastModified: "",
            mac: "",
            rule: ruleForNewFile(undefined, format === "binary"),
            macOnlyEncrypted: false,
            version: SOPS_VERSION,
        }
        const when = new Date(Date.UTC(2030, 0, 1) + this.edits * 86_400_000)
        writeFileSync(abs, seal(store.parsePlain(Buffer.from(plainText)), store, metadata, k.key, undefined, when))
    }

    /** `git mv from to` (to must not exist); the data key moves with the file. */
    rename(from: string, to: string): void {
        mkdirSync(dirname(join(this.dir, to)), { recursive: true })
        this.git(["mv", from, to])
        const k = this.keys.get(from)
        this.keys.delete(from)
        if (k !== undefined) this.keys.set(to, k)
    }

    /** A byte-for-byte copy (same data key and blocks), as `cp` makes. */
    copy(from: string, to: string): void {
        mkdirSync(dirname(join(this.dir, to)), { recursive: true })
        writeFileSync(join(this.dir, to), readFileSync(join(this.dir, from)))
        const k = this.keys.get(from)
        if (k !== undefined) this.keys.set(to, k)
    }

    exists(path: string): boolean {
        return existsSync(join(this.dir, path)) && lstatSync(join(this.dir, path)).isFile()
    }
}

/** Every sops file under `dir`'s secrets/ with its metadata and digest, as the inventory reads them. */
export async function sopsFilesUnder(dir: string): Promise<KeyDateFile[]> {
    const out: KeyDateFile[] = []
    const walk = async (d: string): Promise<void> => {
        if (!existsSync(d)) return
        for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
            const abs = join(d, e.name)
            if (e.isDirectory()) await walk(abs)
            else if (e.isFile()) {
                try {
                    const store = await loadStore(formatForPath(abs))
                    const bytes = readFileSync(abs)
                    const metadata = metadataFromTree(store.parseEncrypted(bytes).metadata)
                    const digest = createHash("sha256").update(bytes).digest("hex")
                    if (metadata.version !== "" && metadata.mac !== "") out.push({ abs, metadata, digest })
                } catch {
                    // plaintext
                }
            }
        }
    }
    await walk(join(dir, "secrets"))
    return out
}

/** A `git` that logs each call's arguments and then runs the real one; see {@link recordingGit}. */
export interface GitRecorder {
    /** The directory holding the `git` shim: put it first in PATH. */
    readonly bin: string
    /** Forget the calls recorded so far. */
    reset(): void
    /** The argument lines of the calls since the last reset, in order. */
    calls(): string[]
}

/**
 * A `git` shim in a fresh directory under `parent` that records every call, so a
 * test can count the git processes a command starts (issue 14 target 7).
 */
export function recordingGit(r: HistoryRepo, parent: string): GitRecorder {
    const bin = join(parent, "bin")
    const log = join(bin, "git.log")
    mkdirSync(bin)
    const real = r.git(["--exec-path"]).trim()
    writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}/git' "$@"\n`)
    chmodSync(join(bin, "git"), 0o755)
    writeFileSync(log, "")
    return {
        bin,
        reset: () => writeFileSync(log, ""),
        calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean),
    }
}
