/**
 * The README's "Use" block runs as written on a fresh `$HOME` (issue 11 point 7),
 * and "Try it"'s `npm run demo` shows what the README says it shows (point 11).
 *
 * The Use block runs like a docs example (test/helpers/markdown.ts): bash under
 * `set -euo pipefail` in an empty directory, HOME and XDG_CONFIG_HOME fresh inside
 * it, the built `secrets` and Debian's age-keygen on PATH, stdin empty. Three
 * things stand in for the reader's machine, and only these:
 * - its first line, `npm install -g .`, is not run (it would install into the
 *   machine's global prefix): `secrets` is on PATH instead, as that line makes it.
 *   The test checks that the skipped line is exactly that one;
 * - EDITOR is a script that changes one value, as a person would in theirs;
 * - `./migrate`, the reader's own program, is a script that reports which
 *   variables it was given (lengths, not values, for the secret one).
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { docsEnv, fencesUnder, writeSecretsShim } from "../helpers/markdown.js"
import { runProcess } from "../helpers/process.js"
import { tempDir } from "../helpers/tmp.js"

const ROOT = join(import.meta.dirname, "../..")
const README = readFileSync(join(ROOT, "README.md"), "utf8")
const INSTALL_LINE = /^npm install -g \.(\s+#.*)?$/

/** The first sh block under `## Use`, split into the install line and the rest. */
function useBlock(): { install: string; rest: string } {
    const block = fencesUnder(README, "## Use").find((f) => f.info[0] === "sh")
    if (block === undefined) throw new Error("README.md: no sh block under ## Use")
    const [install = "", ...rest] = block.body.split("\n")
    return { install, rest: rest.join("\n") }
}

describe("README.md", () => {
    it("Use: the block runs as written in an empty directory with a fresh HOME", async () => {
        const { install, rest } = useBlock()
        expect(install).toMatch(INSTALL_LINE)
        // Nothing else in the block installs, downloads or needs a terminal.
        expect(rest).not.toMatch(/npm |npx |curl |sudo /)

        const base = tempDir()
        const home = join(base, "home")
        const work = join(base, "work")
        const bin = join(base, "bin")
        for (const d of [home, work, bin]) mkdirSync(d)
        writeSecretsShim(bin)
        const editor = join(bin, "change-db-user")
        writeFileSync(editor, `#!/bin/sh\nsed -i 's/^DB_USER: app$/DB_USER: app_rw/' "$1"\n`)
        chmodSync(editor, 0o755)
        writeFileSync(
            join(work, "migrate"),
            '#!/bin/sh\necho "migrate: DB_USER=$DB_USER, DB_PASSWORD has ${#DB_PASSWORD} characters, DB_OLD_PASSWORD ${DB_OLD_PASSWORD-unset}"\n',
        )
        chmodSync(join(work, "migrate"), 0o755)

        const r = await runProcess("bash", ["-c", `set -euo pipefail\n${rest}\n`], {
            cwd: work,
            env: docsEnv({ path: `${bin}:/usr/local/bin:/usr/bin:/bin`, home, extra: { EDITOR: editor } }),
            input: "",
            timeout: 100_000,
        })
        const report = `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
        expect(r.status, report).toBe(0)
        // decrypt printed the plaintext as written; exec-env gave ./migrate the values
        // after edit, set and unset; filestatus ended it.
        expect(r.stdout, report).toContain("DB_USER: app\nDB_PASSWORD: change-me\nDB_OLD_PASSWORD: hunter1\n")
        expect(r.stdout, report).toContain("migrate: DB_USER=app_rw, DB_PASSWORD has 7 characters, DB_OLD_PASSWORD unset\n")
        expect(r.stdout.trimEnd().split("\n").pop(), report).toBe('{"encrypted":true}')
        expect(r.stderr, report).not.toMatch(/error|hunter|change-me/)

        // The identity the block made is the one the file is encrypted to, and is private.
        const keys = join(home, ".config/sops/age/keys.txt")
        expect(statSync(keys).mode & 0o077).toBe(0)
        const file = readFileSync(join(work, "secrets/db.yaml"), "utf8")
        expect(file).not.toMatch(/hunter|change-me|app_rw/)
        const me = readFileSync(keys, "utf8").match(/^# public key: (age1\S+)$/m)?.[1]
        expect(me).toBeDefined()
        expect(file).toContain(`recipient: ${me}`)
        const final = await runCli(["decrypt", "secrets/db.yaml"], { cwd: work, home })
        expect(final.code, final.stderr).toBe(0)
        expect(final.stdout).toBe("DB_USER: app_rw\nDB_PASSWORD: hunter2\n")
    })

    it("Try it: npm run demo opens a shared file with the host's demo key, is refused a user's, and writes nothing", async () => {
        expect(README).toContain("npm ci && npm run demo")
        const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
        expect(pkg.scripts.demo).toBe("node scripts/demo.js")
        const before = ["secrets/shared/app.yaml", "secrets/users/alice/tokens.yaml"].map((f) => readFileSync(join(ROOT, f), "utf8"))
        const home = tempDir()
        const r = await runProcess(process.execPath, [join(ROOT, "scripts/demo.js")], { cwd: home, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home } })
        expect(r.status, r.stderr).toBe(0)
        expect(r.stdout).toContain("PUBLIC DEMO KEYS")
        // The file as in git, then its plaintext through web1's key.
        expect(r.stdout).toContain("    password: ENC[AES256_GCM,data:")
        expect(r.stdout).toContain("$ SOPS_AGE_KEY_FILE=examples/keys/web1.txt secrets decrypt secrets/shared/app.yaml\ndatabase:\n    host: db.internal\n")
        expect(r.stdout).toContain("    password: demo-db-password\n")
        // web1 is no recipient of alice's own file: refused with sops's 128, nothing of it shown.
        expect(r.stdout).toMatch(/secrets\/users\/alice\/tokens\.yaml\nsecrets: error: .*could not recover the data key.*\n\(exit 128\)\n/)
        expect(r.stdout).not.toContain("demo-alice-github-token")
        expect(r.stdout).toMatch(/\nFILE +alice +bob +web1\n/)
        expect(["secrets/shared/app.yaml", "secrets/users/alice/tokens.yaml"].map((f) => readFileSync(join(ROOT, f), "utf8"))).toEqual(before)
    })
})
