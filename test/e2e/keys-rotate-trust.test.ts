/**
 * `keys rotate` cannot be steered by a repository and never destroys an identity
 * (issue 10 §1, §2), through the built binary with real age keys and real git:
 *
 * - a rotation state planted in the repository is ignored (never read);
 * - a state in the user's state directory that names a key nobody here holds is
 *   refused on resume, and a resume shows the new recipient and asks;
 * - the old identity is retired, not deleted: `git show HEAD~1:…` still decrypts with
 *   the same key file; only `keys retired --remove`, confirmed, deletes it;
 * - `status` names an interrupted rotation and how to resume it; `--check` fails.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, runCli, type CliResult } from "../helpers/cli.js"
import { runInProcess } from "../helpers/in-process.js"
import { exitOf, hasTmux, Tty } from "../helpers/tty.js"
import { ageKeygen, run, tempDir } from "../helpers/tmp.js"

const SLOW = 120_000
const NOW = "2031-06-01T00:00:00Z"

interface Repo {
    repo: string
    home: string
    keyFile: string
    /** alice's recipient and identity line before any rotation. */
    alice: { recipient: string; identity: string }
    cli(args: string[], env?: Record<string, string>): Promise<CliResult>
}

/** A fleet repository made by `secrets init` for alice (key in her default key file), with a shared file and one of her own. */
async function aliceRepo(opts: { git?: boolean } = {}): Promise<Repo> {
    const repo = tempDir()
    const home = tempDir()
    const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: repo, home, env: { SECRETS_NOW: NOW, ...env } })
    // The starting repository is built in this process (not what the tests claim);
    // the keys rotate runs and the checks after them use the binary (cli).
    const setup = (args: string[]) => runInProcess(args, { cwd: repo, home, env: { SECRETS_NOW: NOW } })
    expect((await setup(["init", "--yes", "--user", "alice"])).code).toBe(0)
    writeFileSync(join(repo, "secrets/shared/db.yaml"), "db:\n    password: hunter2\n")
    writeFileSync(join(repo, "secrets/users/alice/notes.yaml"), "notes: remember the milk\n")
    for (const f of ["secrets/shared/db.yaml", "secrets/users/alice/notes.yaml"]) expect((await setup(["encrypt", "-i", f])).code).toBe(0)
    const keyFile = join(home, ".config", "sops", "age", "keys.txt")
    const text = readFileSync(keyFile, "utf8")
    const identity = text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-")) ?? ""
    const recipient = run("age-keygen", ["-y", keyFile]).toString().trim()
    if (opts.git === true) {
        git(repo, "init", "-q")
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "secrets")
    }
    return { repo, home, keyFile, alice: { recipient, identity }, cli }
}

function git(cwd: string, ...args: string[]): string {
    return run("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false", ...args], { cwd }).toString()
}

/** The state file of a rotation, where the tool keeps it: outside the repository. */
function statePathFor(r: Repo, anchor: string): string {
    const hash = createHash("sha256").update(`${realpathSync(r.repo)}\0${anchor}`).digest("hex")
    return join(r.home, ".local", "state", "secrets", "rotations", `${hash}.json`)
}

/** Every file under the repository (not .git) with its bytes. */
function contents(dir: string): Record<string, string> {
    const out: Record<string, string> = {}
    for (const f of run("find", [".", "-type", "f", "-not", "-path", "./.git/*"], { cwd: dir }).toString().trim().split("\n").sort()) {
        out[f] = readFileSync(join(dir, f), "utf8")
    }
    return out
}

describe("keys rotate: a repository cannot plant rotation state", () => {
    it("a planted .secrets/rotate-alice.json naming an attacker's key is ignored; alice's identity is kept", async () => {
        const r = await aliceRepo()
        const attacker = ageKeygen(tempDir(), "attacker")
        // The format older versions read from the repository and resumed without asking.
        mkdirSync(join(r.repo, ".secrets"))
        const planted = {
            version: 1,
            anchor: "user_alice",
            oldRecipient: r.alice.recipient,
            newRecipient: attacker.recipient,
            keyFile: r.keyFile,
            files: ["secrets/shared/db.yaml", "secrets/users/alice/notes.yaml"],
            done: [],
        }
        writeFileSync(join(r.repo, ".secrets", "rotate-alice.json"), JSON.stringify(planted))

        const rot = await r.cli(["keys", "rotate", "alice", "--yes"])
        expect(rot.stderr).toContain(`secrets: warning: ".secrets/rotate-alice.json" is ignored: rotation state is kept outside the repository`)
        expect(rot.code).toBe(0)
        expect(rot.stderr).not.toContain("resuming")
        const all = Object.values(contents(r.repo)).join("\n")
        expect(readFileSync(join(r.repo, ".sops.yaml"), "utf8")).not.toContain(attacker.recipient)
        expect(all.split(attacker.recipient)).toHaveLength(2) // only inside the planted file itself
        // The attacker's key opens nothing; alice's key file (old identity retired, not deleted) opens everything.
        for (const f of ["secrets/shared/db.yaml", "secrets/users/alice/notes.yaml"]) {
            expect((await runCli(["decrypt", f], { cwd: r.repo, home: tempDir(), env: { SOPS_AGE_KEY_FILE: attacker.file } })).code, f).toBe(128)
            expect((await r.cli(["decrypt", f])).code, f).toBe(0)
        }
        expect(readFileSync(r.keyFile, "utf8")).toContain(r.alice.identity)
    }, SLOW)

    it("a state in the state directory whose new identity is not in the key file is refused on resume; nothing changes", async () => {
        const r = await aliceRepo()
        const attacker = ageKeygen(tempDir(), "attacker")
        const state = {
            version: 2,
            configDir: realpathSync(r.repo),
            anchor: "user_alice",
            oldRecipient: r.alice.recipient,
            newRecipient: attacker.recipient,
            keyFile: r.keyFile,
            files: ["secrets/shared/db.yaml", "secrets/users/alice/notes.yaml"],
            done: [],
        }
        const path = statePathFor(r, "user_alice")
        mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 })
        writeFileSync(path, JSON.stringify(state), { mode: 0o600 })
        const repoBefore = contents(r.repo)
        const keysBefore = readFileSync(r.keyFile, "utf8")

        const rot = await r.cli(["keys", "rotate", "alice", "--yes"])
        expect(rot.code).toBe(1)
        expect(rot.stderr).toContain(
            `secrets: error: refusing to resume the rotation of user_alice: the identity of its new recipient ${attacker.recipient} is not in "${r.keyFile}"`,
        )
        expect(rot.stderr).toContain("secrets: hint: otherwise drop the rotation with `secrets keys rotate alice --abort`")
        expect(contents(r.repo)).toEqual(repoBefore)
        expect(readFileSync(r.keyFile, "utf8")).toBe(keysBefore)

        // A state the tool did not write in this shape (another repository) is not usable either.
        writeFileSync(path, JSON.stringify({ ...state, configDir: "/elsewhere" }))
        const other = await r.cli(["keys", "rotate", "alice", "--yes"])
        expect(other.code).toBe(1)
        expect(other.stderr).toContain(`is not usable: it belongs to "/elsewhere"`)
        // --abort drops an unusable state without trusting it; then a fresh rotation works.
        expect((await r.cli(["keys", "rotate", "alice", "--abort"])).code).toBe(0)
        expect(existsSync(path)).toBe(false)
        expect(contents(r.repo)).toEqual(repoBefore)
    }, SLOW)

    it("a resume shows the new recipient and asks: no terminal and no --yes is a refusal; status names the rotation and --check fails", async () => {
        const r = await aliceRepo()
        const cut = await r.cli(["keys", "rotate", "alice", "--yes"], { SECRETS_TEST_INTERRUPT_AFTER: "1" })
        expect(cut.code).toBe(1)
        const stateText = readFileSync(statePathFor(r, "user_alice"), "utf8")
        const state = JSON.parse(stateText) as { newRecipient: string; files: string[] }
        expect(existsSync(join(r.repo, ".secrets"))).toBe(false)

        const status = await r.cli(["status"])
        expect(status.code).toBe(0)
        expect(status.stderr).toContain("secrets: warning: rotation of user_alice interrupted: 1 of 2 files done; resume with `secrets keys rotate alice`")
        // Scripts see it too: `ok` is false, and the rotation is listed with its command.
        const json = JSON.parse((await r.cli(["status", "--json"])).stdout) as { ok: boolean; interruptedRotations: string[] }
        expect(json.ok).toBe(false)
        expect(json.interruptedRotations).toEqual(["rotation of user_alice interrupted: 1 of 2 files done; resume with `secrets keys rotate alice`"])
        const check = await r.cli(["status", "--check"])
        expect(check.code).toBe(1)
        expect(check.stderr).toContain("secrets: error: status check failed")

        const before = contents(r.repo)
        const asked = await r.cli(["keys", "rotate", "alice"])
        expect(asked.code).toBe(1)
        expect(asked.stderr).toContain(`secrets: resuming the rotation of user_alice to ${state.newRecipient} (1 of 2 files done)`)
        expect(asked.stderr).toContain("secrets: error: not changing files without confirmation")
        expect(asked.stderr).toContain("secrets: hint: pass --yes to resume without a terminal, or --abort to drop the rotation")
        expect(contents(r.repo)).toEqual(before)

        const resumed = await r.cli(["keys", "rotate", "alice", "--yes"])
        expect(resumed.code).toBe(0)
        expect(existsSync(statePathFor(r, "user_alice"))).toBe(false)
        const after = await r.cli(["status", "--check"])
        expect(after.stderr).not.toContain("interrupted")
        expect(after.code).toBe(0)

        // A rotation cut after its last file (every file in step): the rotation alone fails the check.
        writeFileSync(statePathFor(r, "user_alice"), JSON.stringify({ ...JSON.parse(stateText), done: state.files }))
        const alone = await r.cli(["status", "--check"])
        expect(alone.code).toBe(1)
        expect(alone.stderr).toContain("secrets: warning: rotation of user_alice interrupted: 2 of 2 files done; resume with `secrets keys rotate alice`")
        expect(alone.stderr).toContain("secrets: error: status check failed: 1 interrupted key rotation")
        // Resuming it has nothing left to re-wrap and only drops the state.
        const finish = await r.cli(["keys", "rotate", "alice", "--yes"])
        expect(finish.code).toBe(0)
        expect(existsSync(statePathFor(r, "user_alice"))).toBe(false)
        expect(readFileSync(r.keyFile, "utf8").match(/^# retired:/gm)).toHaveLength(1)
    }, SLOW)

    it("a new rotation asks too: without a terminal and without --yes nothing is written, the key file included", async () => {
        const r = await aliceRepo()
        const before = contents(r.repo)
        const keysBefore = readFileSync(r.keyFile, "utf8")
        const rot = await r.cli(["keys", "rotate", "alice"])
        expect(rot.code).toBe(1)
        expect(rot.stderr).toMatch(/secrets: rotating user_alice: \.sops\.yaml will name age1\S+ instead of age1\S+, and 2 files will be re-wrapped for it/)
        expect(rot.stderr).toContain("secrets: error: not changing files without confirmation")
        expect(rot.stderr).toContain("secrets: hint: pass --yes to rotate without a terminal")
        expect(contents(r.repo)).toEqual(before)
        expect(readFileSync(r.keyFile, "utf8")).toBe(keysBefore)
        expect(existsSync(statePathFor(r, "user_alice"))).toBe(false)
    }, SLOW)
})

describe("keys rotate never destroys the old identity", () => {
    it("old revisions from git still decrypt with the same key file; keys retired lists it; --remove asks, then removes only retired ones", async () => {
        const r = await aliceRepo({ git: true })
        // A key of alice's own that is not part of the rotation, with its comment.
        const other = ageKeygen(tempDir(), "other")
        writeFileSync(r.keyFile, `${readFileSync(r.keyFile, "utf8")}# my signing key, keep\n${other.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))}\n`)

        const rot = await r.cli(["keys", "rotate", "alice", "--yes"])
        expect(rot.code).toBe(0)
        expect(rot.stderr).toContain(`secrets: kept the old identity of user_alice in "${r.keyFile}" as retired: it still opens old revisions (git history)`)
        git(r.repo, "commit", "-q", "-am", "rotate alice")

        const keys = readFileSync(r.keyFile, "utf8")
        expect(keys).toContain(r.alice.identity)
        expect(keys).toContain("# retired: user_alice on 2031-06-01 by secrets keys rotate")
        const newRecipient = readFileSync(join(r.repo, ".sops.yaml"), "utf8").match(/&user_alice (age1\S+)/)?.[1] ?? ""
        expect(newRecipient).not.toBe(r.alice.recipient)

        // The revision before the rotation, from git, opens with the same key file.
        const oldRev = join(r.home, "old-db.yaml")
        writeFileSync(oldRev, git(r.repo, "show", "HEAD~1:secrets/shared/db.yaml"))
        expect(readFileSync(oldRev, "utf8")).toContain(r.alice.recipient)
        expect((await r.cli(["decrypt", oldRev])).stdout).toBe("db:\n    password: hunter2\n")
        // The current files carry only the new recipient and open with it.
        for (const f of ["secrets/shared/db.yaml", "secrets/users/alice/notes.yaml"]) {
            const text = readFileSync(join(r.repo, f), "utf8")
            expect(text).toContain(newRecipient)
            expect(text).not.toContain(r.alice.recipient)
        }

        const listed = await r.cli(["keys", "retired"])
        expect(listed.code).toBe(0)
        expect(listed.stdout.split("\n")[1]?.split(/\s+/)).toEqual([r.alice.recipient, "2031-06-01", "user_alice"])

        const refused = await r.cli(["keys", "retired", "--remove"])
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain("secrets: error: not changing files without confirmation")
        expect(readFileSync(r.keyFile, "utf8")).toBe(keys)

        const removed = await r.cli(["keys", "retired", "--remove", "--yes"])
        expect(removed.code).toBe(0)
        expect(removed.stderr).toContain(`secrets: removed 1 retired identity from "${r.keyFile}"`)
        const left = readFileSync(r.keyFile, "utf8")
        expect(left).not.toContain(r.alice.identity)
        expect(left).not.toContain("# retired:")
        expect(left).toContain(`# my signing key, keep\n${other.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))}\n`)
        expect(run("age-keygen", ["-y", r.keyFile]).toString().trim().split("\n").sort()).toEqual([newRecipient, other.recipient].sort())
        // Now, and only now, the old revision no longer opens; the current one does.
        expect((await r.cli(["decrypt", oldRev])).code).toBe(128)
        expect((await r.cli(["decrypt", "secrets/shared/db.yaml"])).stdout).toBe("db:\n    password: hunter2\n")
        expect((await r.cli(["keys", "retired"])).stderr).toContain("secrets: no retired identities in")
    }, SLOW)
})

describe.skipIf(!hasTmux())("keys rotate at a terminal", () => {
    it("a resume shows the new recipient and asks: no keeps everything as it was, yes finishes", async () => {
        const r = await aliceRepo()
        expect((await r.cli(["keys", "rotate", "alice", "--yes"], { SECRETS_TEST_INTERRUPT_AFTER: "1" })).code).toBe(1)
        const { newRecipient } = JSON.parse(readFileSync(statePathFor(r, "user_alice"), "utf8")) as { newRecipient: string }
        const before = contents(r.repo)
        const env = `HOME='${r.home}' XDG_CONFIG_HOME='${r.home}/.config' PATH='${process.env.PATH ?? "/usr/bin:/bin"}'`
        const rotate = `cd '${r.repo}' && ${env} '${process.execPath}' '${BIN}' keys rotate alice`
        for (const [answer, exit] of [["n", "exit=1"], ["y", "exit=0"]] as const) {
            const dir = tempDir()
            const tty = new Tty(dir, rotate)
            try {
                await tty.waitFor(new RegExp(`re-wrap the remaining files for ${newRecipient}\\?`))
                expect(tty.screen()).toContain(`secrets: resuming the rotation of user_alice to ${newRecipient} (1 of 2 files done)`)
                tty.type(answer)
                expect(await exitOf(dir)).toBe(exit)
                if (answer === "n") {
                    expect(tty.screen()).toContain("secrets: error: nothing written")
                    expect(contents(r.repo)).toEqual(before)
                    expect(existsSync(statePathFor(r, "user_alice"))).toBe(true)
                } else {
                    expect(tty.screen()).toContain(`secrets: rotated user_alice: 2 files now open with ${newRecipient}`)
                    expect(existsSync(statePathFor(r, "user_alice"))).toBe(false)
                }
            } finally {
                tty.kill()
            }
        }
    }, SLOW)
})
