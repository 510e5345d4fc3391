/**
 * Issue 15 §3 with real git: `secrets git resolve FILE` after a merge stopped on a
 * value changed on both sides. The editor (a script standing in for a person)
 * sees the merged plaintext with the conflict between markers, keeps theirs'
 * value, and the resolution is written encrypted; `git add` and `git commit`
 * then finish the merge. Markers left in the buffer are refused; a file without
 * conflict stages is a one-line error; a merge made without the driver (git's
 * text conflict in the ENC strings and the MAC) is resolved without an editor.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN } from "../helpers/cli.js"
import { encStrings, mergeRepo, type MergeRepo } from "../helpers/git-merge-repo.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"

/** An editor that prints the buffer it got, then keeps theirs' side of every conflict. */
function keepTheirsEditor(dir: string): string {
    const path = join(dir, "keep-theirs.sh")
    writeFileSync(
        path,
        `#!/bin/sh
cat "$1"
awk '/^<<<<<<< ours/ { skip = 1; next } /^=======$/ { skip = 0; next } /^>>>>>>> theirs$/ { next } !skip { print }' "$1" > "$1.new"
cat "$1.new" > "$1"
rm -f "$1.new"
`,
    )
    chmodSync(path, 0o755)
    return path
}

/** An editor that changes the buffer but leaves the markers. */
function sloppyEditor(dir: string): string {
    const path = join(dir, "sloppy.sh")
    writeFileSync(path, `#!/bin/sh\necho 'extra: 1' >> "$1"\n`)
    chmodSync(path, 0o755)
    return path
}

/** main and feature both change db.password; feature also changes api.token, main mode. */
async function conflicted(r: MergeRepo): Promise<string> {
    r.git(["checkout", "-qb", "feature"])
    await r.cli(["set", "app.yaml", '["db"]["password"]', '"feature-password"'])
    await r.cli(["set", "app.yaml", '["api"]["token"]', '"feature-token"'])
    r.git(["commit", "-qam", "feature"])
    r.git(["checkout", "-q", "main"])
    await r.cli(["set", "app.yaml", '["db"]["password"]', '"main-password"'])
    await r.cli(["set", "app.yaml", '["mode"]', '"main-mode"'])
    r.git(["commit", "-qam", "main"])
    const ours = r.read()
    const merge = r.gitTry(["merge", "--no-edit", "feature"])
    expect(merge.status).toBe(1)
    return ours
}

describe("secrets git resolve under real git", () => {
    it("shows both values between markers, writes the choice encrypted; git add + commit finish the merge", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        const ours = await conflicted(r)
        const done = await r.cli(["git", "resolve", "app.yaml"], { env: { EDITOR: keepTheirsEditor(r.root) } })
        // The buffer: the non-conflicting changes of both sides merged, the one conflict between markers.
        expect(done.stdout).toBe(
            "db:\n<<<<<<< ours [\"db\"][\"password\"]\n    password: main-password\n=======\n    password: feature-password\n>>>>>>> theirs\n    host: db.internal\napi:\n    token: feature-token\nmode: main-mode\n",
        )
        expect(done.stderr).toContain('secrets: "app.yaml": 1 value to choose: ["db"]["password"]')
        expect(done.stderr).toContain("mark it so with: git add app.yaml")
        expect(JSON.parse(await r.decrypt())).toEqual({ db: { password: "feature-password", host: "db.internal" }, api: { token: "feature-token" }, mode: "main-mode" })
        // Values ours had and kept keep ours' ENC strings.
        const before = encStrings(ours)
        const after = encStrings(r.read())
        for (const key of ["host", "mode"]) expect(after.get(key), key).toBe(before.get(key))

        r.git(["add", "app.yaml"])
        r.git(["commit", "-q", "--no-edit"])
        expect(r.git(["status", "--porcelain"])).toBe("")
        expect(r.git(["rev-list", "--parents", "-1", "HEAD"]).trim().split(" ")).toHaveLength(3)
        expect(JSON.parse(await r.decrypt()).db.password).toBe("feature-password")

        // Nothing left to resolve: one line, exit 2.
        const none = await r.cli(["git", "resolve", "app.yaml"], { allowFail: true })
        expect(none.code).toBe(2)
        expect(none.stderr).toBe('secrets: error: "app.yaml" has no merge conflict in git\'s index: nothing to resolve\n')
    })

    it("refuses a buffer that still has markers, writing nothing; refuses to overwrite changes made since the merge", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        const ours = await conflicted(r)
        const sloppy = await r.cli(["git", "resolve", "app.yaml"], { env: { EDITOR: sloppyEditor(r.root) }, allowFail: true })
        expect(sloppy.code).toBe(1)
        expect(sloppy.stderr).toMatch(/secrets: error: "app\.yaml": conflict markers remain on lines 2, 4, 6\n/)
        expect(r.read()).toBe(ours)
        expect(r.git(["ls-files", "-u"]).trim().split("\n")).toHaveLength(3)

        // A change made to the file after the merge stopped is not thrown away.
        await r.cli(["set", "app.yaml", '["mode"]', '"edited-after"'])
        const edited = r.read()
        const refused = await r.cli(["git", "resolve", "app.yaml"], { env: { EDITOR: keepTheirsEditor(r.root) }, allowFail: true })
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain('"app.yaml" has changed since the merge stopped')
        expect(refused.stderr).toContain("git checkout --merge -- app.yaml")
        expect(r.read()).toBe(edited)
    })

    it("without the driver configured, git's text conflict in the ENC strings and MAC is resolved with no editor", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        // Highest precedence: app.yaml's merge attribute back to unspecified (git's text merge).
        writeFileSync(join(r.repo, ".git", "info", "attributes"), "app.yaml !merge\n")
        r.git(["checkout", "-qb", "feature"])
        await r.cli(["set", "app.yaml", '["api"]["token"]', '"feature-token"'])
        r.git(["commit", "-qam", "feature"])
        r.git(["checkout", "-q", "main"])
        await r.cli(["set", "app.yaml", '["mode"]', '"main-mode"'])
        r.git(["commit", "-qam", "main"])
        const merge = r.gitTry(["merge", "--no-edit", "feature"])
        expect(merge.status).toBe(1)
        expect(r.read()).toContain("<<<<<<<")
        const done = await r.cli(["git", "resolve", "app.yaml"], { env: { EDITOR: "false" } })
        expect(done.stderr).toContain("no editor needed")
        expect(JSON.parse(await r.decrypt())).toMatchObject({ api: { token: "feature-token" }, mode: "main-mode" })
        r.git(["add", "app.yaml"])
        r.git(["commit", "-q", "--no-edit"])
        expect(r.git(["status", "--porcelain"])).toBe("")
    })

    it.skipIf(!hasTmux())("at a terminal, markers left reopen the editor after Enter, as edit does on a parse error", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        await conflicted(r)
        const tty = join(r.root, "tty")
        mkdirSync(tty)
        // First run: a careless save with the markers still there; second run: theirs kept.
        const editor = join(r.root, "twice.sh")
        writeFileSync(
            editor,
            `#!/bin/sh
if [ ! -f "${join(r.root, "once")}" ]; then touch "${join(r.root, "once")}"; echo 'extra: 1' >> "$1"; exit 0; fi
awk '/^<<<<<<< ours/ { skip = 1; next } /^=======$/ { skip = 0; next } /^>>>>>>> theirs$/ { next } !skip { print }' "$1" > "$1.new"
cat "$1.new" > "$1"
rm -f "$1.new"
`,
            { mode: 0o755 },
        )
        const t = new Tty(
            tty,
            `cd ${r.repo} && HOME=${r.home} GIT_CONFIG_NOSYSTEM=1 SOPS_AGE_KEY_FILE=${r.alice.file} EDITOR=${editor} "${process.execPath}" "${BIN}" git resolve app.yaml`,
        )
        try {
            await t.waitFor(/conflict markers remain on lines 2, 4, 6/)
            await t.waitFor(/press Enter to reopen the editor/)
            t.type("")
            expect(await exitOf(tty)).toBe("exit=0")
        } finally {
            t.kill()
        }
        expect(JSON.parse(await r.decrypt())).toMatchObject({ db: { password: "feature-password" }, api: { token: "feature-token" }, mode: "main-mode" })
    })
})
