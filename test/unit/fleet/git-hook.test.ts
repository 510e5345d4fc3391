/**
 * fleet/git-hook.ts: what setup finds at the hook's path, and the script itself
 * run by a real `sh`: the chained hook runs first and its failure is the hook's
 * status, and a copy of our script under the chained name does not call itself.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { CHAINED_NAME, hookProblem, hookScript, inspectHook } from "../../../src/fleet/git-hook.js"
import type { GitRepository } from "../../../src/integrations/git-config.js"
import { tempDir } from "../../helpers/tmp.js"

function repoIn(root: string, hooksPathSetting?: string): GitRepository {
    const top = join(root, "repo")
    mkdirSync(join(top, ".git", "hooks"), { recursive: true })
    return { top, commonDir: join(top, ".git"), defaultHooksDir: join(top, ".git", "hooks"), hooksPathSetting }
}

describe("inspectHook", () => {
    it("tells missing, ours (current or not) and someone else's hook apart", () => {
        const repo = repoIn(tempDir())
        const script = hookScript("secrets")
        const hook = join(repo.defaultHooksDir, "pre-commit")
        expect(inspectHook(repo, script).state).toEqual({ kind: "missing" })
        writeFileSync(hook, script, { mode: 0o755 })
        const ours = inspectHook(repo, script)
        expect(ours.state).toMatchObject({ kind: "ours", current: true, link: false })
        expect(hookProblem(ours)).toBeUndefined()
        expect(inspectHook(repo, hookScript("/opt/secrets")).state).toMatchObject({ kind: "ours", current: false })
        writeFileSync(hook, "#!/bin/sh\nexit 0\n")
        expect(inspectHook(repo, script).state).toEqual({ kind: "foreign" })
        expect(inspectHook(repo, script).shown).toBe(".git/hooks/pre-commit")
    })

    it("keeps a symlink inside the repository as a foreign hook, refuses one leading out", () => {
        const root = tempDir()
        const repo = repoIn(root)
        mkdirSync(join(repo.top, "scripts"))
        writeFileSync(join(repo.top, "scripts", "hook"), "#!/bin/sh\nexit 0\n")
        symlinkSync("../../scripts/hook", join(repo.defaultHooksDir, "pre-commit"))
        expect(inspectHook(repo, hookScript("secrets")).state).toEqual({ kind: "foreign" })
        writeFileSync(join(root, "outside"), "#!/bin/sh\n")
        const other = repoIn(join(root, "b"))
        symlinkSync(join(root, "outside"), join(other.defaultHooksDir, "pre-commit"))
        expect(() => inspectHook(other, hookScript("secrets"))).toThrow(/symbolic link outside the repository/)
    })

    it("refuses a hooks path that is not a directory", () => {
        const root = tempDir()
        const repo = repoIn(root, "hooks-file")
        writeFileSync(join(repo.top, "hooks-file"), "x")
        expect(() => inspectHook(repo, hookScript("secrets"))).toThrow(/is not a directory/)
        expect(() => inspectHook(repoIn(join(root, "c"), "/dev/null"), hookScript("secrets"))).toThrow(/is not a directory/)
    })
})

describe("the hook script under sh", () => {
    const run = (dir: string) => spawnSync("sh", [join(dir, "pre-commit")], { cwd: dir, encoding: "utf8", timeout: 60_000 })

    it("runs the chained hook first, stops with its status, then runs the command", () => {
        const dir = tempDir()
        const log = join(dir, "log")
        writeFileSync(join(dir, "pre-commit"), hookScript(`echo ours >> "${log}"; echo`), { mode: 0o755 })
        writeFileSync(join(dir, CHAINED_NAME), `#!/bin/sh\necho old >> "${log}"\nexit 3\n`, { mode: 0o755 })
        const failed = run(dir)
        expect(failed.status).toBe(3)
        expect(spawnSync("cat", [log], { encoding: "utf8" }).stdout).toBe("old\n")
        writeFileSync(join(dir, CHAINED_NAME), `#!/bin/sh\necho old >> "${log}"\n`, { mode: 0o755 })
        writeFileSync(log, "")
        const ok = run(dir)
        expect(ok.status).toBe(0)
        expect(spawnSync("cat", [log], { encoding: "utf8" }).stdout).toBe("old\nours\n")
    })

    it("does not call itself when a copy of it is the chained hook", () => {
        const dir = tempDir()
        const log = join(dir, "log")
        const script = hookScript(`echo ours >> "${log}"; echo`)
        writeFileSync(join(dir, "pre-commit"), script, { mode: 0o755 })
        writeFileSync(join(dir, CHAINED_NAME), script, { mode: 0o755 })
        const r = run(dir)
        expect(r.status).toBe(0)
        expect(spawnSync("cat", [log], { encoding: "utf8" }).stdout).toBe("ours\nours\n")
    })
})
