/**
 * Our side files (locks, the break lock, unfinished atomic writes) are never the
 * repository's (issue 10 §14): the repository walk behind `status`, `access` and
 * the re-key skips them, and the lines init puts in `.gitignore` make real git
 * ignore them — and not the lock files people do commit (flake.lock, Cargo.lock).
 */
import { execFileSync, spawn } from "node:child_process"
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { dirname, join, relative } from "node:path"
import { describe, expect, it, onTestFinished } from "vitest"

import { withFileLock } from "../../../src/files/file-lock.js"
import { GITIGNORE_COMMENT, GITIGNORE_LINES, isSideFile } from "../../../src/core/side-files.js"
import { repoFiles } from "../../../src/fleet/repo-files.js"
import { caught } from "../../helpers/errors.js"
import { tempDir } from "../../helpers/tmp.js"

const OURS = [
    "secrets/shared/app.yaml.lock",
    "secrets/shared/app.yaml.lock.break",
    "secrets/hosts/web1/id_ed25519.lock",
    "secrets/shared/.app.yaml.0123456789ab.tmp",
    "secrets/shared/.app.yaml.lock.a1b2c3d4e5f6.tmp",
    ".sops.yaml.lock",
    ".sops.yaml.lock.break",
    ".sops.yaml.00ff00ff00ff.tmp",
    "deploy/prod.env.lock",
    "deploy/prod.json.lock",
    "deploy/prod.ini.lock",
    "deploy/prod.yml.lock",
]
const THEIRS = [
    "flake.lock",
    "Cargo.lock",
    "yarn.lock",
    "deploy/Gemfile.lock",
    "package-lock.json",
    "secrets/shared/app.yaml",
    "secrets/shared/notes.tmp",
    "secrets/hosts/web1/id_ed25519",
    ".gitignore",
]

function populate(root: string, paths: readonly string[]): void {
    for (const p of paths) {
        mkdirSync(dirname(join(root, p)), { recursive: true })
        writeFileSync(join(root, p), "x")
    }
}

describe("side files", () => {
    it("are recognised by name", () => {
        for (const p of OURS) expect(isSideFile(p.split("/").pop() ?? ""), p).toBe(true)
        for (const p of THEIRS.filter((t) => !t.endsWith(".lock"))) expect(isSideFile(p.split("/").pop() ?? ""), p).toBe(false)
    })

    it("are skipped by the repository walk (status, access, re-key)", async () => {
        const root = tempDir()
        populate(root, [...OURS, ...THEIRS])
        const seen: string[] = []
        for await (const abs of repoFiles(root, new Set())) seen.push(relative(root, abs))
        expect(seen.sort()).toEqual(
            ["package-lock.json", "secrets/shared/app.yaml", "secrets/shared/notes.tmp", "secrets/hosts/web1/id_ed25519", ".gitignore"].sort(),
        )
    })

    it("are ignored by git with init's lines; the lock files people commit are not", () => {
        const root = tempDir()
        execFileSync("git", ["init", "-q", root])
        populate(root, [...OURS, ...THEIRS])
        writeFileSync(join(root, ".gitignore"), `${[GITIGNORE_COMMENT, ...GITIGNORE_LINES].join("\n")}\n`)
        const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: root, env: { PATH: process.env.PATH ?? "", HOME: root } })
            .toString()
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => l.slice(3))
        expect(status.sort()).toEqual([...THEIRS].sort())
    })

    it("the lock and the temp file a waiter has on disk carry side-file names", async () => {
        const dir = tempDir()
        const file = join(dir, "app.yaml")
        const sleeper = spawn("sleep", ["600"], { stdio: "ignore" })
        onTestFinished(() => {
            sleeper.kill("SIGKILL")
        })
        writeFileSync(`${file}.lock`, JSON.stringify({ pid: sleeper.pid, hostname: hostname(), time: Date.now(), token: "t" }))
        let names: string[] = []
        await caught(
            withFileLock(file, async () => undefined, {
                timeoutMs: 300,
                noticeAfterMs: 0,
                stderr: { write: () => (names = readdirSync(dir)) },
            }),
        )
        expect(names.length).toBe(2)
        for (const n of names) expect(isSideFile(n), n).toBe(true)
    })
})
