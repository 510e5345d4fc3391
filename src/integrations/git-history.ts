/**
 * A repository's history read in one pass, for `status` over a large repository
 * (issue 14 target 7): one `git log` lists, for every commit of the first-parent
 * line, which paths changed and their new blob ids; one `git cat-file --batch`
 * then hands out the blobs asked for. Per file, `git log -- FILE` and a `git show`
 * per version cost over 2,700 git processes on 1,000 files; this costs two.
 *
 * The log is the per-file one (git.ts fileCommits) taken for all paths at once:
 * a commit changed a file exactly when the file differs from the commit's first
 * parent (`--first-parent` compares merges with their first parent only), which is
 * what `--diff-merges=first-parent` prints for merges. Renames are off
 * (`--no-renames`): the per-file log has a deletion at the old path, and so must
 * we. Output is NUL-separated (`-z`), so any file name reads back exactly.
 */
import { execa } from "execa"
import { gitEnv } from "./git.js"

/** One path a commit changed: the mode and blob it has after the commit (blob undefined: deleted). */
export interface PathChange {
    readonly path: string
    readonly mode: string
    readonly blob: string | undefined
}

/** A commit of the first-parent line with the changed paths `keep` asked for. */
export interface HistoryCommit {
    readonly commit: string
    readonly date: Date
    readonly changes: readonly PathChange[]
}

/** Environment for history reads: pathspecs are literal (a `[` in a directory name is a `[`). */
function historyEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
    const out = gitEnv(env)
    delete out.GIT_GLOB_PATHSPECS
    delete out.GIT_NOGLOB_PATHSPECS
    delete out.GIT_ICASE_PATHSPECS
    return { ...out, GIT_LITERAL_PATHSPECS: "1" }
}

/**
 * The first-parent history of HEAD under `under` (relative to `top`; undefined: the
 * whole tree), newest first, each commit with the changes whose paths `keep`
 * accepts; commits with none are left out. An empty list when there is no history
 * (no commit yet, git failing); undefined when this git cannot list it (older than
 * 2.31, without `--diff-merges`): the caller then asks file by file.
 */
export async function firstParentHistory(
    top: string,
    under: string | undefined,
    env: Readonly<Record<string, string | undefined>>,
    keep: (path: string) => boolean,
): Promise<HistoryCommit[] | undefined> {
    const args = [
        // A user's log.follow would turn the one pathspec into a rename chase.
        "-c",
        "log.follow=false",
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--no-renames",
        "--root",
        "--raw",
        "--no-abbrev",
        "--no-color",
        "-z",
        "--format=%H %cI",
        ...(under !== undefined ? ["--", under] : []),
    ]
    let sub
    try {
        sub = execa("git", args, { cwd: top, env: historyEnv(env), extendEnv: false, reject: false, stdin: "ignore", buffer: false, stderr: "pipe", encoding: "buffer" })
    } catch {
        return []
    }
    const parser = new LogParser(keep)
    const stderr: Buffer[] = []
    sub.stderr?.on("data", (c: Buffer) => {
        if (stderr.length < 64) stderr.push(c)
    })
    try {
        // Streamed: a long history is never held as one string, only the kept changes.
        if (sub.stdout !== null) for await (const chunk of sub.stdout) parser.push(chunk as Buffer)
    } catch {
        // The pipe broke: whatever git says below decides.
    }
    const r = await sub
    if (r.exitCode !== 0) {
        const said = Buffer.concat(stderr).toString("utf8")
        return /diff-merges/.test(said) ? undefined : []
    }
    return parser.end()
}

const UTF8 = new TextDecoder("utf-8", { fatal: true })

/** The `-z --raw --format=%H %cI` stream, token by token (tokens end in NUL). */
class LogParser {
    private readonly commits: HistoryCommit[] = []
    private current: { commit: string; date: Date; changes: PathChange[] } | undefined
    /** Set after a raw line: the next token is its path. */
    private raw: { mode: string; blob: string | undefined } | undefined
    private carry: Buffer = Buffer.alloc(0)
    private readonly keep: (path: string) => boolean

    constructor(keep: (path: string) => boolean) {
        this.keep = keep
    }

    push(chunk: Buffer): void {
        let buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk])
        let start = 0
        for (let nul = buf.indexOf(0, start); nul !== -1; nul = buf.indexOf(0, start)) {
            this.token(buf.subarray(start, nul))
            start = nul + 1
        }
        buf = buf.subarray(start)
        this.carry = Buffer.from(buf)
    }

    end(): HistoryCommit[] {
        if (this.carry.length > 0) this.token(this.carry)
        this.flush()
        return this.commits
    }

    private token(bytes: Buffer): void {
        if (this.raw !== undefined) {
            const raw = this.raw
            this.raw = undefined
            let path: string
            try {
                path = UTF8.decode(bytes)
            } catch {
                // Not UTF-8: no name read from the disk as a string can be this path.
                return
            }
            if (this.current !== undefined && this.keep(path)) this.current.changes.push({ path, ...raw })
            return
        }
        const text = bytes.toString("latin1").replace(/^\n+/, "")
        if (text === "") return
        if (text.startsWith(":")) {
            // :oldmode newmode oldblob newblob status
            const f = text.slice(1).split(" ")
            const blob = f[3] ?? ""
            this.raw = { mode: f[1] ?? "", blob: /^0*$/.test(blob) ? undefined : blob }
            return
        }
        this.flush()
        // As fileCommits reads a commit line: a commit with an unreadable date is skipped.
        const m = /^([0-9a-f]{7,64}) (\S+)$/.exec(text.trim())
        const date = m?.[2] === undefined ? undefined : new Date(m[2])
        this.current = m?.[1] === undefined || date === undefined || Number.isNaN(date.getTime()) ? undefined : { commit: m[1], date, changes: [] }
    }

    private flush(): void {
        if (this.current !== undefined && this.current.changes.length > 0) this.commits.push(this.current)
        this.current = undefined
    }
}

/** Reads blobs by id through one `git cat-file --batch`. */
export interface BlobReader {
    /** Each id's bytes; undefined when missing, not a blob, or bigger than the reader's bound. */
    read(ids: readonly string[]): Promise<Map<string, Uint8Array | undefined>>
    close(): Promise<void>
}

/**
 * A reader over one `git cat-file --batch` in `top`. Blobs over `maxBytes` are
 * skipped as they stream past, never held: the history of a path may hold a build
 * artefact that is no sops file.
 */
export function blobReader(top: string, env: Readonly<Record<string, string | undefined>>, maxBytes: number): BlobReader {
    const sub = execa("git", ["cat-file", "--batch"], {
        cwd: top,
        env: gitEnv(env),
        extendEnv: false,
        reject: false,
        buffer: false,
        stdin: "pipe",
        stderr: "ignore",
        encoding: "buffer",
    })
    // Requests are answered in order: a queue of the ids still waiting.
    const waiting: ((bytes: Uint8Array | undefined) => void)[] = []
    let carry: Buffer = Buffer.alloc(0)
    /** The body being read: how many bytes are left, and its parts unless it is too big. */
    let body: { left: number; parts: Buffer[] | undefined } | undefined
    let closed = false
    const answer = (bytes: Uint8Array | undefined) => waiting.shift()?.(bytes)
    const onData = (chunk: Buffer) => {
        let buf = carry.length === 0 ? chunk : Buffer.concat([carry, chunk])
        for (;;) {
            if (body !== undefined) {
                // The body, then one LF.
                const take = Math.min(body.left, buf.length)
                body.parts?.push(buf.subarray(0, take))
                body.left -= take
                buf = buf.subarray(take)
                if (body.left > 0) break
                if (buf.length === 0) break
                buf = buf.subarray(1)
                answer(body.parts === undefined ? undefined : Buffer.concat(body.parts))
                body = undefined
                continue
            }
            const lf = buf.indexOf(0x0a)
            if (lf === -1) break
            const header = buf.subarray(0, lf).toString("latin1")
            buf = buf.subarray(lf + 1)
            // "<id> <type> <size>", or "<id> missing" / "<id> ambiguous".
            const m = /^\S+ (\S+) (\d+)$/.exec(header)
            if (m === null) {
                answer(undefined)
                continue
            }
            const size = Number(m[2])
            body = { left: size, parts: m[1] === "blob" && size <= maxBytes ? [] : undefined }
        }
        carry = Buffer.from(buf)
    }
    sub.stdout?.on("data", onData)
    const finish = () => {
        closed = true
        while (waiting.length > 0) answer(undefined)
    }
    sub.stdout?.on("close", finish)
    sub.stdout?.on("error", finish)
    sub.stdin?.on("error", finish)
    // A git that cannot start: every read answers "missing".
    void sub.catch(finish)
    return {
        async read(ids) {
            const out = new Map<string, Uint8Array | undefined>()
            const unique = [...new Set(ids)]
            if (unique.length === 0) return out
            if (closed || sub.stdin === null) {
                for (const id of unique) out.set(id, undefined)
                return out
            }
            const all = unique.map(
                (id) =>
                    new Promise<void>((resolve) => {
                        waiting.push((bytes) => {
                            out.set(id, bytes)
                            resolve()
                        })
                    }),
            )
            // An id is hex from git's own output; a line break in one would desync the replies.
            sub.stdin.write(unique.map((id) => (/^[0-9a-f]+$/.test(id) ? id : "0")).join("\n") + "\n")
            await Promise.all(all)
            return out
        },
        async close() {
            sub.stdin?.end()
            await sub
            finish()
        },
    }
}
