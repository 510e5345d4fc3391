/**
 * keyDate against a real git repository: a file encrypted by the built binary,
 * committed with fixed dates, then re-wrapped for a new recipient (`updatekeys`,
 * same data key) and later rotated. The key's date must follow rotations only.
 */
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../../helpers/cli.js"
import { ageKeygen, tempDir } from "../../helpers/tmp.js"
import { keyDate, workTreeOf } from "../../../src/fleet/key-age.js"
import { loadStore } from "../../../src/stores/index.js"
import { metadataFromTree } from "../../../src/stores/metadata.js"

function git(dir: string, args: string[], date?: string): void {
    execFileSync("git", args, {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}) },
        stdio: "ignore",
    })
}

async function metaOf(path: string) {
    const store = await loadStore("yaml")
    return metadataFromTree(store.parseEncrypted(readFileSync(path)).metadata)
}

describe("keyDate", () => {
    it("re-wraps keep the date of the commit that made the key; a rotation moves it; outside git: lastmodified", async () => {
        const dir = tempDir()
        const keys = tempDir()
        const a = ageKeygen(keys, "a")
        const b = ageKeygen(keys, "b")
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" }
        const rule = (rs: string[]) => `creation_rules:\n    - path_regex: ^secrets/\n      age: ${rs.join(",")}\n`
        writeFileSync(join(dir, ".sops.yaml"), rule([a.recipient]))
        mkdirSync(join(dir, "secrets"))
        const file = join(dir, "secrets", "x.yaml")
        writeFileSync(file, "k: v-VALUE\n")
        const opts = (now: string) => ({ cwd: dir, home: dir, env: { SOPS_AGE_KEY_FILE: a.file, SECRETS_NOW: now } })

        // Not yet a repository: lastmodified.
        expect((await runCli(["encrypt", "-i", "secrets/x.yaml"], opts("2030-01-01T00:00:00Z"))).code).toBe(0)
        expect(await workTreeOf(dir, env)).toBeUndefined()
        expect(await keyDate(file, await metaOf(file), env, undefined)).toEqual({ date: new Date("2030-01-01T00:00:00Z"), source: "lastmodified" })

        git(dir, ["init", "-q"])
        git(dir, ["-c", "user.name=t", "-c", "user.email=t@e", "add", "-A"])
        git(dir, ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "one"], "2030-01-10T00:00:00Z")
        const top = await workTreeOf(dir, env)
        expect(top).toBeDefined()
        const first = await keyDate(file, await metaOf(file), env, top)
        expect(first.source).toBe("git")
        expect(first.date?.toISOString()).toBe("2030-01-10T00:00:00.000Z")

        // Re-wrap for b (same data key): the date stays at the first commit.
        writeFileSync(join(dir, ".sops.yaml"), rule([a.recipient, b.recipient]))
        expect((await runCli(["updatekeys", "-y", "secrets/x.yaml"], opts("2030-02-01T00:00:00Z"))).code).toBe(0)
        git(dir, ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-am", "add b"], "2030-02-01T00:00:00Z")
        expect((await keyDate(file, await metaOf(file), env, top)).date?.toISOString()).toBe("2030-01-10T00:00:00.000Z")

        // Rotated, not committed: lastmodified; committed: that commit.
        expect((await runCli(["rotate", "-i", "secrets/x.yaml"], opts("2030-03-01T00:00:00Z"))).code).toBe(0)
        expect(await keyDate(file, await metaOf(file), env, top)).toEqual({ date: new Date("2030-03-01T00:00:00Z"), source: "lastmodified" })
        git(dir, ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-am", "rotate"], "2030-03-02T00:00:00Z")
        const rotated = await keyDate(file, await metaOf(file), env, top)
        expect(rotated.source).toBe("git")
        expect(rotated.date?.toISOString()).toBe("2030-03-02T00:00:00.000Z")
    }, 60_000)
})
