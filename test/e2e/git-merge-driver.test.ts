/**
 * Issue 15 §3 with real git: `secrets git merge-driver` as the merge driver of
 * encrypted files (the built binary, as `secrets git setup` configures it). Disjoint
 * changes merge with no conflict and keep ours' ENC strings; rebase and
 * cherry-pick go through; the same key changed on both sides stops the merge with
 * ours left encrypted; a rotation on one side wins; a recipient added on one side
 * stays; a tampered side or a missing key is a conflict (never git's crash status).
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { encStrings, mergeRepo } from "../helpers/git-merge-repo.js"
import { filesUnder } from "../helpers/files-under.js"


describe("secrets git merge-driver under real git", () => {
    it("disjoint changes merge cleanly: both values, ours' other ENC strings kept, MAC verified, no plaintext on disk", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        r.git(["checkout", "-qb", "feature"])
        await r.cli(["set", "app.yaml", '["api"]["token"]', '"feature-token"'])
        r.git(["commit", "-qam", "feature: token"])
        r.git(["checkout", "-q", "main"])
        await r.cli(["set", "app.yaml", '["db"]["password"]', '"main-password"'])
        r.git(["commit", "-qam", "main: password"])
        const ours = r.read()

        const merge = r.gitTry(["merge", "--no-edit", "feature"])
        expect(merge.status, merge.stdout + merge.stderr).toBe(0)
        expect(merge.stdout + merge.stderr).not.toContain("CONFLICT")
        const merged = r.read()
        expect(JSON.parse(await r.decrypt())).toEqual({ db: { password: "main-password", host: "db.internal" }, api: { token: "feature-token" }, mode: "base-mode" })
        // Only theirs' change differs from ours' file among the values.
        const before = encStrings(ours)
        const after = encStrings(merged)
        before.delete("mac")
        after.delete("mac")
        expect([...after.keys()].sort()).toEqual(["host", "mode", "password", "token"])
        for (const key of ["password", "host", "mode"]) expect(after.get(key), key).toBe(before.get(key))
        expect(after.get("token")).not.toBe(before.get("token"))
        expect(merged).not.toContain("<<<<<<<")
        expect(merged).not.toBe(ours)
        expect(r.git(["status", "--porcelain"])).toBe("")
        for (const f of filesUnder(r.repo)) {
            const text = readFileSync(f, "latin1")
            expect(text.includes("feature-token") || text.includes("main-password"), f).toBe(false)
        }
    })

    it("the same key changed on both sides: git reports the conflict, the file stays ours (encrypted, valid), the path is named", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        r.git(["checkout", "-qb", "feature"])
        await r.cli(["set", "app.yaml", '["db"]["password"]', '"feature-password"'])
        r.git(["commit", "-qam", "feature: password"])
        r.git(["checkout", "-q", "main"])
        await r.cli(["set", "app.yaml", '["db"]["password"]', '"main-password"'])
        r.git(["commit", "-qam", "main: password"])
        const ours = r.read()

        const merge = r.gitTry(["merge", "--no-edit", "feature"])
        expect(merge.status).toBe(1)
        expect(merge.stdout).toContain("CONFLICT (content): Merge conflict in app.yaml")
        expect(merge.stderr).toContain('secrets: "app.yaml": 1 value changed differently on both sides')
        expect(merge.stderr).toContain('secrets:   ["db"]["password"]')
        expect(merge.stderr).toContain("secrets: hint: secrets git resolve app.yaml")
        expect(merge.stdout + merge.stderr).not.toContain("feature-password")
        expect(r.read()).toBe(ours)
        expect(JSON.parse(await r.decrypt()).db.password).toBe("main-password")
        expect(r.git(["ls-files", "-u"]).trim().split("\n")).toHaveLength(3)
    })

    it("rebase and cherry-pick across disjoint changes go through with both values", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        r.git(["checkout", "-qb", "feature"])
        await r.cli(["set", "app.yaml", '["api"]["token"]', '"feature-token"'])
        r.git(["commit", "-qam", "feature: token"])
        const pick = r.git(["rev-parse", "HEAD"]).trim()
        r.git(["checkout", "-q", "main"])
        await r.cli(["set", "app.yaml", '["mode"]', '"main-mode"'])
        r.git(["commit", "-qam", "main: mode"])

        r.git(["checkout", "-qb", "picked"])
        const cherry = r.gitTry(["cherry-pick", pick])
        expect(cherry.status, cherry.stdout + cherry.stderr).toBe(0)
        expect(JSON.parse(await r.decrypt())).toMatchObject({ api: { token: "feature-token" }, mode: "main-mode" })

        r.git(["checkout", "-q", "feature"])
        const rebase = r.gitTry(["rebase", "main"])
        expect(rebase.status, rebase.stdout + rebase.stderr).toBe(0)
        expect(JSON.parse(await r.decrypt())).toMatchObject({ api: { token: "feature-token" }, mode: "main-mode" })
        expect(r.git(["rev-parse", "HEAD~1"]).trim()).toBe(r.git(["rev-parse", "main"]).trim())
        expect(r.git(["status", "--porcelain"])).toBe("")
    })

    it("a data key rotated on one side wins: the merge uses the rotated key and holds the other side's change", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        const keyId = async () => /# sops: data key ([0-9a-f]{8})/.exec((await r.cli(["git", "diff-text", "app.yaml"])).stdout)![1]!
        const baseKey = await keyId()
        r.git(["checkout", "-qb", "rotated"])
        await r.cli(["rotate", "-i", "app.yaml"])
        r.git(["commit", "-qam", "rotate"])
        const rotatedKey = await keyId()
        expect(rotatedKey).not.toBe(baseKey)
        r.git(["checkout", "-q", "main"])
        await r.cli(["set", "app.yaml", '["db"]["password"]', '"main-password"'])
        r.git(["commit", "-qam", "main: password"])

        const merge = r.gitTry(["merge", "--no-edit", "rotated"])
        expect(merge.status, merge.stdout + merge.stderr).toBe(0)
        expect(await keyId()).toBe(rotatedKey)
        expect(JSON.parse(await r.decrypt())).toMatchObject({ db: { password: "main-password", host: "db.internal" }, mode: "base-mode" })
    })

    it("a recipient added on one side (.sops.yaml + updatekeys) stays when merged into the other, per the creation rule", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        r.git(["checkout", "-qb", "web1"])
        r.writeConfig("*user_alice, *host_web1")
        await r.cli(["updatekeys", "-y", "app.yaml"])
        r.git(["commit", "-qam", "add web1"])
        r.git(["checkout", "-q", "main"])
        await r.cli(["set", "app.yaml", '["mode"]', '"main-mode"'])
        r.git(["commit", "-qam", "main: mode"])

        // Git runs the driver while main's .sops.yaml (alice only) is in the work tree.
        const merge = r.gitTry(["merge", "--no-edit", "web1"])
        expect(merge.status, merge.stdout + merge.stderr).toBe(0)
        expect(r.read()).toContain(r.web1.recipient)
        expect(JSON.parse(await r.decrypt("app.yaml", r.web1.file))).toMatchObject({ mode: "main-mode", db: { password: "base-password" } })
        expect(JSON.parse(await r.decrypt())).toMatchObject({ mode: "main-mode" })

        // The other way round: main's rule (now alice + web1) is the creation rule.
        r.git(["checkout", "-qb", "later", "HEAD~1"])
        await r.cli(["set", "app.yaml", '["api"]["token"]', '"later-token"'])
        r.git(["commit", "-qam", "later: token"])
        const back = r.gitTry(["merge", "--no-edit", "main"])
        expect(back.status, back.stdout + back.stderr).toBe(0)
        expect(JSON.parse(await r.decrypt("app.yaml", r.web1.file))).toMatchObject({ mode: "main-mode", api: { token: "later-token" } })
    })

    it("a side whose MAC fails, or a merger without a key: a conflict with one line naming the file, never a crash status", { timeout: 180_000 }, async () => {
        const r = await mergeRepo()
        const base = join(r.root, "base.yaml")
        const ours = join(r.root, "ours.yaml")
        const theirs = join(r.root, "theirs.yaml")
        writeFileSync(base, r.read())
        await r.cli(["set", "app.yaml", '["mode"]', '"ours-mode"'])
        writeFileSync(ours, r.read())
        await r.cli(["set", "app.yaml", '["api"]["token"]', '"theirs-token"'])
        // theirs with ours' mode ENC string swapped back to the base's: the MAC no longer matches.
        const baseMode = encStrings(readFileSync(base, "utf8")).get("mode")!
        const tampered = r.read().replace(encStrings(r.read()).get("mode")!, baseMode)
        writeFileSync(theirs, tampered)
        const oursBytes = readFileSync(ours, "utf8")

        const bad = await r.cli(["git", "merge-driver", base, ours, theirs, "app.yaml"], { allowFail: true })
        expect(bad.code).toBe(2)
        expect(bad.stderr.trim().split("\n")).toHaveLength(1)
        expect(bad.stderr).toMatch(/^secrets: error: cannot merge "app\.yaml": "app\.yaml" \(theirs\): .*MAC.*git checkout --ours\/--theirs -- app\.yaml\n$/)
        expect(readFileSync(ours, "utf8")).toBe(oursBytes)

        writeFileSync(theirs, r.read())
        const nokey = await r.cli(["git", "merge-driver", base, ours, theirs, "app.yaml"], { env: { SOPS_AGE_KEY_FILE: r.web1.file }, allowFail: true })
        expect(nokey.code).toBe(1)
        expect(nokey.stderr.trim().split("\n")).toHaveLength(1)
        expect(nokey.stderr).toMatch(/^secrets: error: cannot merge "app\.yaml": no identity here opens it/)
        expect(readFileSync(ours, "utf8")).toBe(oursBytes)

        // The same key changed on both sides, run directly: exit 1, %A untouched, the path listed.
        writeFileSync(join(r.repo, "app.yaml"), readFileSync(base))
        await r.cli(["set", "app.yaml", '["mode"]', '"theirs-mode"'])
        writeFileSync(theirs, r.read())
        const conflict = await r.cli(["git", "merge-driver", base, ours, theirs, "app.yaml"], { allowFail: true })
        expect(conflict.code).toBe(1)
        expect(conflict.stderr).toContain('secrets:   ["mode"]\n')
        expect(conflict.stderr).not.toContain("theirs-mode")
        expect(readFileSync(ours, "utf8")).toBe(oursBytes)

        // And disjoint changes with the key: a clean merge written into %A.
        writeFileSync(join(r.repo, "app.yaml"), readFileSync(ours))
        await r.cli(["set", "app.yaml", '["api"]["token"]', '"theirs-token"'])
        writeFileSync(theirs, r.read())
        const ok = await r.cli(["git", "merge-driver", base, ours, theirs, "app.yaml"])
        expect(ok.stderr).toBe("")
        writeFileSync(join(r.repo, "app.yaml"), readFileSync(ours))
        expect(JSON.parse(await r.decrypt())).toMatchObject({ mode: "ours-mode", api: { token: "theirs-token" } })
    })
})
