/**
 * `secrets init --host web1` without the host's key (issue 11 §9), through the
 * built binary: the next steps init prints work at once (a file under
 * secrets/hosts/web1/ encrypts to the users and the recovery key), and
 * `keys add-host web1 …` later adds the host and re-keys that file, which the
 * host's own key then opens.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

const SECRET = "pending-host-value"

describe("init --host without a key", () => {
    it("writes the host's rule for the users and recovery, and keys add-host adds the host and re-keys", async () => {
        const root = tempDir()
        const dir = join(root, "repo")
        const home = join(root, "home")
        mkdirSync(dir)
        mkdirSync(home)
        run("git", ["init", "-q", dir])
        const cli = (args: string[], env: Record<string, string> = {}, h = home) => runCli(args, { cwd: dir, home: h, env })

        const init = await cli(["init", "--yes", "--user", "alice", "--host", "web1", "--recovery"])
        expect(init.code).toBe(0)
        expect(init.stderr).toContain("added rule ^secrets/hosts/web1/")
        expect(init.stdout).toContain("secrets keys add-host web1 ")
        expect(init.stdout).toContain("secrets edit secrets/hosts/web1/env.yaml   # the users now, the host once added")

        // The step init suggests works now: the file is encrypted to alice and the recovery key.
        writeFileSync(join(dir, "secrets/hosts/web1/env.yaml"), `token: ${SECRET}\n`)
        const enc = await cli(["encrypt", "-i", "secrets/hosts/web1/env.yaml"])
        expect(enc.stderr).toBe("")
        expect(enc.code).toBe(0)
        const alice = run("age-keygen", ["-y", join(home, ".config/sops/age/keys.txt")]).toString().trim()
        const recovery = run("age-keygen", ["-y", join(dir, "recovery-key.txt")]).toString().trim()
        const recipients = () => [...readFileSync(join(dir, "secrets/hosts/web1/env.yaml"), "utf8").matchAll(/recipient: (age1\w+)/g)].map((m) => m[1])
        expect(recipients()).toEqual([alice, recovery])

        // The host arrives: it joins its rule (between the users and recovery) and the file is re-keyed.
        const web = ageKeygen(root, "web1")
        const add = await cli(["keys", "add-host", "web1", "--age", web.recipient, "--yes"])
        expect(add.stderr).toContain("rule ^secrets/hosts/web1/: added *host_web1")
        expect(add.code).toBe(0)
        const config = readFileSync(join(dir, ".sops.yaml"), "utf8")
        expect(config.match(/\^secrets\/hosts\/web1\//g)).toHaveLength(1)
        expect(recipients().sort()).toEqual([alice, web.recipient, recovery].sort())
        const elsewhere = join(root, "elsewhere")
        mkdirSync(elsewhere)
        const asHost = await cli(["decrypt", "secrets/hosts/web1/env.yaml"], { SOPS_AGE_KEY_FILE: web.file }, elsewhere)
        expect(asHost.stdout).toBe(`token: ${SECRET}\n`)
        expect(asHost.code).toBe(0)
    }, 120_000)
})
