/**
 * The go-yaml oracle (main.go beside this file): built once from Debian's go-yaml v3
 * source in GOPATH mode, offline, into node_modules/.cache, and run with a batch of
 * requests. Tests compare its answers (what sops 3.13 reads and writes) with ours.
 *
 * Debian ships go-yaml v3.0.1; sops 3.13 is built with go.yaml.in/yaml/v3 v3.0.4,
 * whose only change in behaviour is in the emitter: a block scalar's header line
 * always ends with a line break (go-yaml issue #755). That change is applied to a
 * copy of the source before building, so the oracle writes what sops writes.
 */
import { execFile, execFileSync, spawn } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"

/** Where Debian's golang-gopkg-yaml.v3-dev puts the source (GOPATH layout). */
export const GO_YAML_GOPATH = "/usr/share/gocode"
const GO_YAML_SRC = join(GO_YAML_GOPATH, "src/gopkg.in/yaml.v3")
const HERE = import.meta.dirname
const REPO = join(HERE, "../../..")
const CACHE = join(REPO, "node_modules/.cache/secrets-go-yaml")

/**
 * Why the oracle cannot run here, or undefined when it can. In CI (the `CI`
 * variable set) the packages are installed by .ci/run, so their absence is a
 * failure there, not a skip (oracleSkipReason).
 */
export function oracleMissing(): string | undefined {
    let go = true
    try {
        execFileSync("go", ["version"], { stdio: "ignore" })
    } catch {
        go = false
    }
    const src = existsSync(join(GO_YAML_SRC, "yaml.go"))
    if (go && src) return undefined
    const what = [go ? "" : "`go` (Debian package golang-go)", src ? "" : `${GO_YAML_SRC} (Debian package golang-gopkg-yaml.v3-dev)`]
    return `the go-yaml oracle needs ${what.filter(Boolean).join(" and ")}: apt-get install golang-go golang-gopkg-yaml.v3-dev`
}

/**
 * Why the oracle tests are skipped here (for the describe title), or undefined when
 * they run. Throws in CI, where a skip would hide a broken setup.
 */
export function oracleSkipReason(): string | undefined {
    const missing = oracleMissing()
    if (missing !== undefined && process.env.CI) throw new Error(`CI is set but ${missing}`)
    return missing === undefined ? undefined : `skipped: ${missing}`
}

// go-yaml v3.0.4 emitterc.go: the two block scalar writers end the header line even
// without a line comment (issue #755). v3.0.1 calls yaml_emitter_process_line_comment here.
const V301_HEADER = "if !yaml_emitter_write_block_scalar_hints(emitter, value) {\n\t\treturn false\n\t}\n\tif !yaml_emitter_process_line_comment(emitter) {"
const V304_HEADER = "if !yaml_emitter_write_block_scalar_hints(emitter, value) {\n\t\treturn false\n\t}\n\tif !yaml_emitter_process_line_comment_linebreak(emitter, true) {"
const V304_LINEBREAK = `package yaml

// From go.yaml.in/yaml/v3 v3.0.4 emitterc.go (go-yaml issue #755).
func yaml_emitter_process_line_comment_linebreak(emitter *yaml_emitter_t, linebreak bool) bool {
	if len(emitter.line_comment) == 0 {
		if linebreak && !put_break(emitter) {
			return false
		}
		return true
	}
	return yaml_emitter_process_line_comment(emitter)
}
`

function patchedEmitter(source: string): string {
    if (source.includes("yaml_emitter_process_line_comment_linebreak")) return source
    const parts = source.split(V301_HEADER)
    if (parts.length !== 3) throw new Error(`${GO_YAML_SRC}/emitterc.go is not go-yaml v3.0.1's: cannot apply the v3.0.4 block scalar header fix`)
    return parts.join(V304_HEADER)
}

function goEnv(gopath: string, gocache: string): NodeJS.ProcessEnv {
    return { ...process.env, GO111MODULE: "off", GOPATH: gopath, GOPROXY: "off", GOFLAGS: "", GOCACHE: gocache, CGO_ENABLED: "0" }
}

/**
 * The oracle binary, built if this version of main.go, go and go-yaml has not been
 * built yet. Several vitest workers may call this at once: each builds in its own
 * temp dir and renames the result into place, so a binary is never seen half-written.
 */
export async function buildOracle(): Promise<string> {
    const main = readFileSync(join(HERE, "main.go"))
    const emitter = readFileSync(join(GO_YAML_SRC, "emitterc.go"), "utf8")
    const goVersion = execFileSync("go", ["version"]).toString()
    const key = createHash("sha256").update(main).update(emitter).update(patchedEmitter(emitter)).update(goVersion).digest("hex").slice(0, 16)
    const bin = join(CACHE, `oracle-${key}`)
    if (existsSync(bin)) return bin
    mkdirSync(CACHE, { recursive: true })
    const work = mkdtempSync(join(tmpdir(), "secrets-go-yaml-"))
    try {
        const pkg = join(work, "src/gopkg.in/yaml.v3")
        cpSync(GO_YAML_SRC, pkg, { recursive: true, filter: (p) => !p.endsWith("_test.go") })
        writeFileSync(join(pkg, "emitterc.go"), patchedEmitter(emitter))
        writeFileSync(join(pkg, "emitter_linebreak_v304.go"), V304_LINEBREAK)
        const cmd = join(work, "src/go-yaml-oracle")
        mkdirSync(cmd, { recursive: true })
        writeFileSync(join(cmd, "main.go"), main)
        const tmpBin = `${bin}.${process.pid}.${randomBytes(4).toString("hex")}`
        // Asynchronously: a synchronous build on a loaded machine can outlast vitest's worker RPC timeout.
        await promisify(execFile)("go", ["build", "-o", tmpBin, "go-yaml-oracle"], { cwd: work, env: goEnv(work, join(CACHE, "gocache")) })
        renameSync(tmpBin, bin)
        return bin
    } finally {
        rmSync(work, { recursive: true, force: true })
    }
}

// ---- the tree as main.go prints and reads it ----

export type OracleValue =
    | { map: OracleItem[] }
    | { list: (OracleValue | OracleComment)[] }
    | { str: string }
    | { bytes: string }
    | { int: string }
    | { uint: string }
    | { float: string }
    | { bool: boolean }
    | { time: string }
    | { null: true }
export interface OracleComment {
    c: string
    inline: boolean
}
export type OracleItem = { k: OracleValue; v: OracleValue } | OracleComment

export type OracleRequest =
    | { op: "load"; yaml: string }
    | { op: "roundtrip"; yaml: string; indent?: number }
    | { op: "emit"; docs: OracleItem[][]; indent?: number }
    | { op: "emitValue"; value: OracleValue }

export interface OracleAnswer {
    docs?: OracleItem[][]
    yaml?: string
    error?: string
}

/** Answers for a batch of requests, in order: one process for the whole batch. */
export function askOracle(bin: string, requests: readonly OracleRequest[]): Promise<OracleAnswer[]> {
    return new Promise((resolve, reject) => {
        const child = spawn(bin, [], { stdio: ["pipe", "pipe", "pipe"] })
        const out: Buffer[] = []
        const err: Buffer[] = []
        child.stdout.on("data", (d: Buffer) => out.push(d))
        child.stderr.on("data", (d: Buffer) => err.push(d))
        child.on("error", reject)
        child.on("close", (status) => {
            if (status !== 0) return reject(new Error(`go-yaml oracle exited ${status}: ${Buffer.concat(err).toString()}`))
            const answers = JSON.parse(Buffer.concat(out).toString()) as OracleAnswer[]
            if (answers.length !== requests.length) return reject(new Error("go-yaml oracle: wrong number of answers"))
            resolve(answers)
        })
        child.stdin.end(JSON.stringify(requests))
    })
}
