/**
 * Issue 16 §4 end to end with the built binary, real age keys and real git:
 * `rotate-value` generates a value of the policy's shape and writes it keeping
 * every other ciphertext byte-equal; a hook gets the new value on stdin (never in
 * argv or env) and the file holds that value only after it exits 0; a failing hook
 * leaves the file byte-identical; a hook is refused without --yes and a terminal
 * and runs after a "y" at one (tmux);
 * `--due` (clock pinned with SECRETS_NOW) rotates exactly the due values.
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli } from "../helpers/cli.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

const SLOW = { timeout: 300_000 }
const FILE = "secrets/app.yaml"

const POLICIES = `secrets:
  values:
    - path: '["db"]["password"]'
      generate: password:32
      rotate_every: 30d
      hook: ./hooks/set-db.sh --flag
      category: database
    - path: '["api"]["*"]'
      generate: hex:16
      rotate_every: 30d
    - path: '["web"]["session"]'
      generate: uuid
      expires: 2031-01-01
`

async function setup(policies = POLICIES) {
    const dir = tempDir()
    const key = ageKeygen(dir, "k")
    const env = { SOPS_AGE_KEY_FILE: key.file, SECRETS_NOW: "2031-03-01T00:00:00Z" }
    writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n  - path_regex: ^secrets/\n    age: ${key.recipient}\n${policies}`)
    mkdirSync(join(dir, "secrets"))
    mkdirSync(join(dir, "hooks"))
    // The hook records sha256(stdin), its argv and its environment, and exits with $HOOK_EXIT's file content.
    writeFileSync(
        join(dir, "hooks/set-db.sh"),
        `#!/bin/sh\nsha256sum | cut -d' ' -f1 > "$(dirname "$0")/stdin.sha"\nprintf '%s\\n' "$@" > "$(dirname "$0")/argv.txt"\nenv > "$(dirname "$0")/env.txt"\nexit "$(cat "$(dirname "$0")/exit-code" 2>/dev/null || echo 0)"\n`,
    )
    chmodSync(join(dir, "hooks/set-db.sh"), 0o755)
    writeFileSync(join(dir, FILE), "db:\n  password: old-db\n  user: app\napi:\n  token: old-token\n  key: old-key\nweb:\n  session: old-session\nother: keep\n")
    const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { cwd: dir, env: { ...env, ...extra } })
    const enc = await cli(["encrypt", "-i", FILE])
    expect(enc.code, enc.stderr).toBe(0)
    const value = async (path: string) => {
        const r = await cli(["decrypt", "--extract", path, FILE])
        expect(r.code, r.stderr).toBe(0)
        return r.stdout
    }
    return { dir, key, cli, value, read: () => readFileSync(join(dir, FILE)) }
}

/** ENC strings of the values by key (`db.password`; the sops MAC left out), for byte-equality of the untouched values. */
function encLines(bytes: Buffer): Map<string, string> {
    const out = new Map<string, string>()
    let parent = ""
    for (const line of bytes.toString().split("\n")) {
        const top = /^(\w+):\s*$/.exec(line)
        if (top) parent = top[1] ?? ""
        const m = /^\s*(\w+): (ENC\[.*\])$/.exec(line)
        if (m && !(line.startsWith(" ") && parent === "sops")) out.set(`${line.startsWith(" ") ? parent : ""}.${m[1]}`, m[2] ?? "")
    }
    return out
}

describe("secrets rotate-value", () => {
    it("generates a value of the policy's shape, keeps every other ciphertext, and gives a hook the value on stdin only", SLOW, async () => {
        const s = await setup()
        const before = encLines(s.read())
        // No hook: hex:16 for ["api"]["token"].
        const r = await s.cli(["rotate-value", FILE, '["api"]["token"]'])
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toBe(`rotated ["api"]["token"] in ${FILE} (hex:16)\n`)
        const token = await s.value('["api"]["token"]')
        expect(token).toMatch(/^[0-9a-f]{32}$/)
        const after = encLines(s.read())
        for (const [k, v] of before) if (k !== "api.token") expect(after.get(k), k).toBe(v)
        expect(after.get("api.token")).not.toBe(before.get("api.token"))
        const verify = await s.cli(["decrypt", FILE])
        expect(verify.code, verify.stderr).toBe(0)

        // With the hook (confirmed by --yes): stdin carries the value, argv and env do not.
        const h = await s.cli(["rotate-value", FILE, '["db"]["password"]', "--yes", "--json"])
        expect(h.code, h.stderr).toBe(0)
        expect(JSON.parse(h.stdout)).toEqual({ file: FILE, keyPath: '["db"]["password"]', generator: "password:32", hook: "ok", dryRun: false })
        const pw = await s.value('["db"]["password"]')
        expect(pw).toMatch(/^[A-Za-z0-9._~-]{32}$/)
        expect(readFileSync(join(s.dir, "hooks/stdin.sha"), "utf8").trim()).toBe(createHash("sha256").update(pw).digest("hex"))
        const argv = readFileSync(join(s.dir, "hooks/argv.txt"), "utf8")
        const env = readFileSync(join(s.dir, "hooks/env.txt"), "utf8")
        expect(argv).toBe("--flag\n")
        expect(argv).not.toContain(pw)
        expect(env).not.toContain(pw)
        expect(env).toContain(`SECRETS_KEY_PATH=["db"]["password"]`)
        expect(env).toContain(`SECRETS_FILE=${FILE}`)
        expect(env).toContain("SECRETS_CATEGORY=database")
        expect(env).not.toContain("SOPS_AGE_KEY_FILE")
        for (const [k, v] of before) if (k !== "api.token" && k !== "db.password") expect(encLines(s.read()).get(k), k).toBe(v)
    })

    it("leaves the file byte-identical when the hook fails, and refuses a hook without --yes and a terminal", SLOW, async () => {
        const s = await setup()
        const original = s.read()
        writeFileSync(join(s.dir, "hooks/exit-code"), "3\n")
        const failed = await s.cli(["rotate-value", FILE, '["db"]["password"]', "--yes"])
        expect(failed.code).toBe(1)
        expect(failed.stderr).toContain("hook ./hooks/set-db.sh --flag exited with status 3")
        expect(s.read().equals(original)).toBe(true)
        // The hook did get a value; it is not what the file holds.
        expect(readFileSync(join(s.dir, "hooks/stdin.sha"), "utf8").trim()).not.toBe(createHash("sha256").update("old-db").digest("hex"))

        writeFileSync(join(s.dir, "hooks/exit-code"), "0\n")
        writeFileSync(join(s.dir, "hooks/stdin.sha"), "untouched\n")
        const refused = await s.cli(["rotate-value", FILE, '["db"]["password"]'])
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain("hooks/set-db.sh --flag")
        expect(refused.stderr).toContain("--yes")
        expect(readFileSync(join(s.dir, "hooks/stdin.sha"), "utf8")).toBe("untouched\n")
        expect(s.read().equals(original)).toBe(true)

        // A policy without generate: is one line naming the config and the fix.
        const none = await s.cli(["rotate-value", FILE, '["other"]'])
        expect(none.code).not.toBe(0)
        expect(none.stderr).toMatch(/^secrets: error: \.sops\.yaml: no secrets\.values policy covers \["other"\] of secrets\/app\.yaml\nsecrets: hint: .*generate: password:32/)
    })

    it("--due rotates exactly the due and expired values (clock pinned)", SLOW, async () => {
        const s = await setup()
        const git = (args: string[], date: string) =>
            execFileSync("git", args, { cwd: s.dir, env: { PATH: process.env.PATH ?? "", HOME: s.dir, GIT_CONFIG_NOSYSTEM: "1", GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }, stdio: "ignore" })
        git(["init", "-q", "-b", "main"], "2030-12-01T00:00:00Z")
        git(["-c", "user.name=T", "-c", "user.email=t@example.org", "add", FILE, ".sops.yaml"], "2031-01-01T00:00:00Z")
        git(["-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-q", "-m", "one"], "2030-12-01T00:00:00Z")
        // api.key changes on 2031-02-20: 9 days old on 2031-03-01, not due; api.token and db.password are 90 days old, web.session is past its expires.
        const set = await s.cli(["set", FILE, '["api"]["key"]', '"fresh"'], { SECRETS_NOW: "2031-02-20T00:00:00Z" })
        expect(set.code, set.stderr).toBe(0)
        git(["-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-q", "-am", "two"], "2031-02-20T00:00:00Z")
        const dry = await s.cli(["rotate-value", "--due", "--dry-run"])
        expect(dry.code, dry.stderr).toBe(0)
        expect(dry.stdout.split("\n").filter(Boolean).sort()).toEqual([
            `would rotate ["api"]["token"] in ${FILE} (hex:16)`,
            `would rotate ["db"]["password"] in ${FILE} (password:32, hook would run)`,
            `would rotate ["web"]["session"] in ${FILE} (uuid)`,
        ])
        const before = encLines(s.read())
        const r = await s.cli(["rotate-value", "--due", "--yes"])
        expect(r.code, r.stderr).toBe(0)
        const after = encLines(s.read())
        const changed = [...before.keys()].filter((k) => before.get(k) !== after.get(k)).sort()
        expect(changed).toEqual(["api.token", "db.password", "web.session"])
        expect(await s.value('["web"]["session"]')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(await s.value('["api"]["key"]')).toBe("fresh")
        // Nothing is due any more: the expired value was replaced after its expiry date, so it is not rotated again.
        const again = await s.cli(["rotate-value", "--due", "--dry-run"])
        expect(again.code, again.stderr).toBe(0)
        expect(again.stdout).toBe("")
    })

    it.skipIf(!hasTmux())("at a terminal, shows the hook's command and runs it after a y", SLOW, async () => {
        const s = await setup()
        const original = s.read()
        const tty = new Tty(s.dir, `cd '${s.dir}' && HOME='${s.dir}' SOPS_AGE_KEY_FILE='${s.key.file}' '${process.execPath}' '${BIN}' rotate-value ${FILE} '["db"]["password"]'`)
        try {
            await tty.waitFor(/run this hook with the new value\?/)
            expect(tty.screen()).toContain(`${s.dir}/hooks/set-db.sh --flag`)
            expect(s.read().equals(original)).toBe(true)
            tty.type("y")
            expect(await exitOf(s.dir)).toBe("exit=0")
        } finally {
            tty.kill()
        }
        const pw = await s.value('["db"]["password"]')
        expect(pw).toMatch(/^[A-Za-z0-9._~-]{32}$/)
        expect(readFileSync(join(s.dir, "hooks/stdin.sha"), "utf8").trim()).toBe(createHash("sha256").update(pw).digest("hex"))
    })
})
