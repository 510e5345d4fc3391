/**
 * The writes' fast path (issue 14 target 4) through the built binary: for a table of
 * `encrypt`, `updatekeys` and `rotate` command lines, errors included, `secrets`
 * does the same with the fast path as with the full program (SECRETS_FAST_PATH=0),
 * each run in its own copy of one directory: the same exit code and stderr, the same
 * stdout and the same files left behind, where "the same" for an encrypted text is
 * its decryption and its shape once the parts that are fresh randomness on every
 * run (the data key, IVs, age stanzas, MAC) and the time are masked, and for a
 * file also its mode and owner. A preload records which bundles bin/secrets.cjs
 * compiled: a plain write must have compiled only dist/hot-write.bundle.cjs (no
 * commander), anything unusual must reach the main bundle.
 */
import { chownSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { BUNDLE_PROBE } from "../helpers/bundle-probe.js"
import { ageKeygen } from "../helpers/tmp.js"

let root = ""
let template = ""
let key = { file: "", recipient: "" }
let other = { file: "", recipient: "" }

const PROBE = BUNDLE_PROBE
const PLAIN: Record<string, string> = {
    "a.yaml": "db:\n    user: admin\n    password: p w\n    port: 5432\nlist:\n    - 1.5\n    - true\n",
    "a.json": '{\n\t"db": {\n\t\t"user": "admin",\n\t\t"port": 5432\n\t}\n}\n',
    "a.env": "USER=admin\nPASSWORD=p w\n",
}
const isRoot = process.getuid?.() === 0

beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "secrets-hot-write-"))
    template = join(root, "template")
    key = ageKeygen(root, "key")
    other = ageKeygen(root, "other")
    writeFileSync(join(root, "probe.cjs"), PROBE)
    // The template: a rule for the key and `other`, plaintexts, files encrypted to
    // the key alone (what updatekeys changes) and by the rule, a tampered one, one the
    // key cannot open, and one with a recipient the rule does not name (rotate warns).
    const t = template
    mkdirSync(t)
    writeFileSync(join(t, ".sops.yaml"), `creation_rules:\n    - path_regex: \\.(yaml|json|env)$\n      age: ${key.recipient},${other.recipient}\n`)
    for (const [name, text] of Object.entries(PLAIN)) writeFileSync(join(t, name), text)
    writeFileSync(join(t, "b.txt"), "no rule for me\n")
    const env = { SOPS_AGE_KEY_FILE: key.file }
    const encrypt = async (args: string[], out: string) => {
        const r = await runCli(["encrypt", ...args], { cwd: t, env: { ...env, SECRETS_FAST_PATH: "0" } })
        expect(r.code, r.stderr).toBe(0)
        writeFileSync(join(t, out), r.stdoutBytes)
    }
    await encrypt(["a.yaml"], "a.enc.yaml")
    await encrypt(["a.json"], "a.enc.json")
    await encrypt(["a.env"], "a.enc.env")
    await encrypt(["--age", key.recipient, "a.yaml"], "one.enc.yaml")
    await encrypt(["--age", key.recipient, "a.json"], "one.enc.json")
    await encrypt(["--age", other.recipient, "a.yaml"], "others.enc.yaml")
    const third = ageKeygen(root, "third")
    await encrypt(["--age", `${key.recipient},${third.recipient}`, "a.yaml"], "offrule.enc.yaml")
    const enc = readFileSync(join(t, "a.enc.yaml"), "utf8")
    writeFileSync(join(t, "tampered.enc.yaml"), enc.replace(/(port: ENC\[AES256_GCM,data:)[^,]+/, "$1AAAA"))
    writeFileSync(join(t, "mode.yaml"), PLAIN["a.yaml"]!)
    chmodSync(join(t, "mode.yaml"), 0o640)
    writeFileSync(join(t, "mode.enc.yaml"), enc)
    chmodSync(join(t, "mode.enc.yaml"), 0o604)
    if (isRoot) {
        chownSync(join(t, "mode.yaml"), 1234, 5678)
        chownSync(join(t, "mode.enc.yaml"), 1234, 5678)
    }
}, 180_000)

afterAll(() => {
    if (root !== "") rmSync(root, { recursive: true, force: true })
})

/** Fresh randomness and time masked: what must match between two runs of the same write. */
function shape(text: string): string {
    return text
        .replace(/ENC\[AES256_GCM,[^\]]*\]/g, "ENC[…]")
        .replace(/-----BEGIN AGE ENCRYPTED FILE-----[\s\S]*?-----END AGE ENCRYPTED FILE-----/g, "AGE…")
        .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, "TIME")
}

const looksEncrypted = (text: string) => text.includes("ENC[AES256_GCM,")

/** The plaintext of an encrypted text (through the full program), or the text itself. */
async function opened(dir: string, name: string, text: string): Promise<string> {
    if (!looksEncrypted(text)) return text
    const shown = `.opened-${name}`
    writeFileSync(join(dir, shown), text)
    const type = name.endsWith(".json") ? "json" : name.endsWith(".env") ? "dotenv" : "yaml"
    const r = await runCli(["decrypt", "--input-type", type, shown], { cwd: dir, env: { SOPS_AGE_KEY_FILE: key.file, SECRETS_FAST_PATH: "0" } })
    rmSync(join(dir, shown))
    return `exit ${r.code}: ${r.stdout}${r.stderr}`.split(dir).join("<dir>")
}

/** Run `secrets argv` in a fresh copy of the template; what it printed, what it left and which bundles it compiled. */
async function runIn(name: string, argv: string[], extra: Record<string, string>) {
    const dir = join(root, name)
    cpSync(template, dir, { recursive: true, preserveTimestamps: true })
    if (isRoot) {
        chownSync(join(dir, "mode.yaml"), 1234, 5678)
        chownSync(join(dir, "mode.enc.yaml"), 1234, 5678)
    }
    const probe = join(root, `${name}.probe`)
    const r = await runCli(argv, {
        cwd: dir,
        env: { SOPS_AGE_KEY_FILE: key.file, NODE_OPTIONS: `--require ${join(root, "probe.cjs")}`, PROBE_OUT: probe, ...extra },
    })
    const bundles = existsSync(probe) ? readFileSync(probe, "utf8").split("\n").filter(Boolean) : []
    const files: Record<string, unknown> = {}
    for (const f of readdirSync(dir).sort()) {
        const path = join(dir, f)
        const before = existsSync(join(template, f)) ? readFileSync(join(template, f), "utf8") : undefined
        const text = readFileSync(path, "utf8")
        const st = statSync(path)
        const meta = { mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid }
        files[f] = text === before ? { unchanged: true, ...meta } : { shape: shape(text), opened: await opened(dir, f, text), ...meta }
    }
    const stdout = r.stdoutBytes.toString("utf8")
    const out = {
        code: r.code,
        // --verbose lines carry the time since start, which differs run to run.
        stderr: r.stderr.split(dir).join("<dir>").replace(/^secrets: verbose: \[ *\d+ ms\]/gm, "secrets: verbose: [ms]"),
        stdout: { shape: shape(stdout), opened: await opened(dir, argv.includes("json") ? "stdout.json" : argv.some((a) => a.endsWith(".env")) ? "stdout.env" : "stdout.yaml", stdout) },
        files,
    }
    rmSync(dir, { recursive: true, force: true })
    return { out, bundles }
}

const FAST = ["hot-write.bundle.cjs"]
const FULL = ["secrets.bundle.cjs"]
// The fast path looked and handed over: both bundles compiled.
const HANDED_OVER = ["hot-write.bundle.cjs", "secrets.bundle.cjs"]

// Recipients are filled in when the table runs (the keys are made in beforeAll).
const KEY = "$KEY"
const OTHER = "$OTHER"

const table: [string[], string[], Record<string, string>?][] = [
    [["encrypt", "a.yaml"], FAST],
    [["encrypt", "a.json"], FAST],
    [["encrypt", "a.env"], FAST],
    [["encrypt", "-i", "a.yaml"], FAST],
    [["encrypt", "a.yaml", "--in-place"], FAST],
    [["encrypt", "-i", "mode.yaml"], FAST],
    [["encrypt", "--output", "out.enc.yaml", "a.yaml"], FAST],
    [["encrypt", "--age", KEY, "a.yaml"], FAST],
    [["encrypt", "-a", `${KEY},${OTHER}`, "a.json"], FAST],
    [["encrypt", "--input-type", "yaml", "--output-type", "json", "a.yaml"], FAST],
    [["encrypt", "a.yaml"], FAST, { SOPS_AGE_RECIPIENTS: KEY }],
    // Warnings and errors the fast path reports itself, as the program does.
    [["encrypt", "--age", OTHER, "a.yaml"], FAST],
    [["encrypt", "missing.yaml"], FAST],
    [["encrypt", "a.enc.yaml"], FAST],
    [["encrypt", "b.txt"], FAST],
    [["encrypt", "--age", "age1bogus", "a.yaml"], FAST],
    [["encrypt", "-i", "--output", "x.yaml", "a.yaml"], FAST],
    [["encrypt", "a.yaml", "--output-type", "dotenv"], FAST],
    [["updatekeys", "-y", "one.enc.yaml"], FAST],
    [["updatekeys", "--yes", "one.enc.yaml", "a.enc.yaml", "one.enc.json"], FAST],
    [["updatekeys", "--dry-run", "one.enc.yaml"], FAST],
    [["updatekeys", "-y", "--input-type", "json", "one.enc.json"], FAST],
    [["updatekeys", "-y", "mode.enc.yaml"], FAST],
    [["updatekeys", "-y", "missing.enc.yaml", "one.enc.yaml"], FAST],
    [["updatekeys", "-y", "others.enc.yaml"], FAST],
    [["rotate", "-i", "a.enc.yaml"], FAST],
    [["rotate", "a.enc.env"], FAST],
    [["rotate", "--output", "r.enc.json", "a.enc.json"], FAST],
    [["rotate", "-i", "mode.enc.yaml"], FAST],
    [["rotate", "-i", "offrule.enc.yaml"], FAST],
    [["rotate", "--in-place", "--ignore-mac", "tampered.enc.yaml"], FAST],
    [["rotate", "-i", "tampered.enc.yaml"], FAST],
    [["rotate", "-i", "others.enc.yaml"], FAST],
    [["rotate", "-i", "missing.enc.yaml"], FAST],
    [["rotate", "a.enc.yaml", "--output-type", "json"], FAST],
    [["rotate", "-i", "a.enc.yaml"], FAST, { SOPS_DECRYPTION_ORDER: "age" }],
    // Anything unusual goes to the full program.
    [["encrypt"], HANDED_OVER],
    [["encrypt", "--filename-override", "x.yaml", "a.yaml"], HANDED_OVER],
    [["encrypt", "--age=" + KEY, "a.yaml"], HANDED_OVER],
    [["encrypt", "-i", "-i", "a.yaml"], HANDED_OVER],
    [["encrypt", "a.yaml", "a.json"], HANDED_OVER],
    [["encrypt", "--help"], HANDED_OVER],
    [["encrypt", "--input-type", "xml", "a.yaml"], HANDED_OVER],
    [["updatekeys", "one.enc.yaml"], HANDED_OVER],
    [["updatekeys", "-y"], HANDED_OVER],
    [["rotate", "--add-age", OTHER, "-i", "a.enc.yaml"], HANDED_OVER],
    [["rotate", "-i", "--", "a.enc.yaml"], HANDED_OVER],
    [["rotate", "--due"], HANDED_OVER],
    [["--verbose", "encrypt", "a.yaml"], FULL],
    [["-e", "a.yaml"], FULL],
]

describe("the writes' fast path does what the full program does", () => {
    it.each(table.map(([argv, path, env], i) => [i, argv, path, env ?? {}] as const))("%i: secrets %j", async (i, argv, path, extra) => {
        const fill = (s: string) => s.split(KEY).join(key.recipient).split(OTHER).join(other.recipient)
        const words = argv.map(fill)
        const env = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, fill(v)]))
        const [fast, full] = await Promise.all([runIn(`fast-${i}`, words, env), runIn(`full-${i}`, words, { ...env, SECRETS_FAST_PATH: "0" })])
        expect(fast.out).toEqual(full.out)
        expect(fast.bundles).toEqual(path)
        expect(full.bundles).toEqual(FULL)
    })

    it("writes what it should (a sanity check of the comparison)", async () => {
        const enc = await runIn("sanity-encrypt", ["encrypt", "-i", "mode.yaml"], {})
        const written = enc.out.files["mode.yaml"] as { opened: string; shape: string; mode: string; uid: number }
        expect(written.opened).toBe(`exit 0: ${PLAIN["a.yaml"]}`)
        expect(written.shape).toContain(`recipient: ${key.recipient}`)
        expect(written.shape).toContain(`recipient: ${other.recipient}`)
        expect(written.mode).toBe("640")
        if (isRoot) expect(written.uid).toBe(1234)
        const up = await runIn("sanity-updatekeys", ["updatekeys", "-y", "one.enc.yaml"], {})
        expect((up.out.files["one.enc.yaml"] as { shape: string }).shape).toContain(`recipient: ${other.recipient}`)
        expect(up.out.stderr).toContain('"one.enc.yaml": updated')
        expect(up.bundles).toEqual(FAST)
    })
})
