/**
 * Progress at a terminal (issue 11 §10): `status` over many files and
 * `keys backup`/`keys restore` (scrypt) draw one line on stderr, rewritten in place
 * and erased before anything else is written; never when stderr is not a
 * terminal. The terminal is an Io whose stderr says isTTY, as Node's does for a
 * tty.WriteStream; everything else is the real program on real files.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Readable } from "node:stream"
import { describe, expect, it } from "vitest"
import { main } from "../../../src/main.js"
import { progressLine } from "../../../src/cli/progress.js"
import { buildBackupPayload, sealBackup } from "../../../src/fleet/backup.js"
import type { Io } from "../../../src/files/io.js"
import { ageKeygen, tempDir } from "../../helpers/tmp.js"

const ERASE = "\r\x1b[2K"

function terminalIo(cwd: string, isTTY: boolean, env: Record<string, string> = {}): Io & { err: () => string; out: () => string } {
    let err = ""
    let out = ""
    return {
        cwd,
        env,
        stdin: Readable.from([]),
        stdout: { write: (s: string | Uint8Array) => ((out += String(s)), true), isTTY },
        stderr: Object.assign({ write: (s: string | Uint8Array) => ((err += String(s)), true), isTTY }, isTTY ? { columns: 60 } : {}),
        now: () => new Date("2026-12-06T00:00:00Z"),
        err: () => err,
        out: () => out,
    }
}

describe("progressLine", () => {
    it("draws in place, redraws only when the percentage moves, and erases before other output", () => {
        const io = terminalIo("/", true)
        const p = progressLine(io, { minTotal: 10 })
        p.count("reading files", 0, 400)
        p.count("reading files", 1, 400)
        p.count("reading files", 4, 400)
        expect(io.err()).toBe(`${ERASE}secrets: reading files 0/400${ERASE}secrets: reading files 4/400`)
        p.io.stderr.write("secrets: warning: something\n")
        expect(io.err().endsWith(`4/400${ERASE}secrets: warning: something\n`)).toBe(true)
        p.clear()
        p.clear()
        expect(io.err().endsWith("something\n")).toBe(true)
        // Too few to be worth a line; too long for the terminal is cut, never wrapped.
        p.count("reading files", 0, 9)
        p.step("x".repeat(100))
        expect(io.err().endsWith(`${ERASE}secrets: ${"x".repeat(49)}…`)).toBe(true)
    })

    it("writes nothing at all when stderr is not a terminal", () => {
        const io = terminalIo("/", false)
        const p = progressLine(io)
        p.count("reading files", 0, 400)
        p.step("deriving")
        p.clear()
        expect(io.err()).toBe("")
        expect(p.io).toBe(io)
    })
})

function repoWithFiles(n: number): string {
    const dir = tempDir()
    writeFileSync(join(dir, ".sops.yaml"), "creation_rules:\n  - path_regex: ^secrets/\n    age: age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw\n")
    mkdirSync(join(dir, "secrets"))
    for (let i = 0; i < n; i++) writeFileSync(join(dir, "secrets", `f${String(i).padStart(2, "0")}.yaml`), "a: plain\n")
    return dir
}

describe("secrets status", () => {
    it("shows how far it is at a terminal, and the line is gone before the report", async () => {
        const dir = repoWithFiles(12)
        const tty = terminalIo(dir, true)
        expect(await main(["status"], tty)).toBe(0)
        const err = tty.err()
        expect(err).toContain(`${ERASE}secrets: reading files 0/12`)
        expect(err).toContain(`${ERASE}secrets: reading files 11/12`)
        expect(err).toContain(`${ERASE}secrets: reading key history 11/12`)
        // Erased before the first line of its own: nothing is left on the terminal.
        expect(err.endsWith(`${ERASE}secrets: no rotation policy: set secrets.rotation.max_age (e.g. 90d) in .sops.yaml\n`)).toBe(true)

        const piped = terminalIo(dir, false)
        expect(await main(["status"], piped)).toBe(0)
        expect(piped.err()).toBe("secrets: no rotation policy: set secrets.rotation.max_age (e.g. 90d) in .sops.yaml\n")
        expect(piped.out()).toBe(tty.out())
    })

    it("shows nothing for a small repository, even at a terminal", async () => {
        const tty = terminalIo(repoWithFiles(3), true)
        expect(await main(["status"], tty)).toBe(0)
        expect(tty.err()).not.toContain("\r")
    })
})

describe("secrets keys backup / restore", () => {
    it("say at a terminal that scrypt is working, erase it, and say nothing in a pipe", async () => {
        const dir = tempDir()
        const home = join(dir, "home")
        const keyDir = join(home, ".config", "sops", "age")
        mkdirSync(keyDir, { recursive: true })
        const key = ageKeygen(keyDir, "keys")
        const env = { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), SECRETS_BACKUP_PASSPHRASE: "correct horse battery staple" }

        const tty = terminalIo(dir, true, env)
        expect(await main(["keys", "backup", "-o", "b.age"], tty)).toBe(0)
        expect(tty.err().startsWith(`${ERASE}secrets: sealing the backup (scrypt: a few seconds)…`)).toBe(true)
        expect(tty.err()).toContain(`${ERASE}secrets: backed up 1 identity`)
        expect(tty.err()).not.toContain(key.text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-")) ?? "AGE-SECRET-KEY-")

        const restoreTty = terminalIo(dir, true, env)
        expect(await main(["keys", "restore", "-o", "restored.txt", "b.age"], restoreTty)).toBe(0)
        expect(restoreTty.err().startsWith(`${ERASE}secrets: opening the backup (scrypt: a few seconds)…`)).toBe(true)
        expect(restoreTty.err()).toContain(`${ERASE}secrets: restored 1 identity`)
        expect(readFileSync(join(dir, "restored.txt"), "utf8")).toContain(key.recipient)

        // The same payload sealed at scrypt work factor 2^10 (age accepts any factor up
        // to its limit): the cases below are about the line, not the key derivation,
        // and each 2^18 derivation (what `keys backup` writes) costs seconds of CPU.
        const payload = buildBackupPayload([{ path: key.file, text: key.text }], new Date("2026-12-06T00:00:00Z"))
        writeFileSync(join(dir, "light.age"), await sealBackup(payload, env.SECRETS_BACKUP_PASSPHRASE, 10))

        // In a pipe (restore stands for both; progressLine's no-op off a terminal is tested above).
        const piped = terminalIo(dir, false, env)
        expect(await main(["keys", "restore", "-o", "piped.txt", "light.age"], piped)).toBe(0)
        expect(piped.err()).toBe(`secrets: restored 1 identity into ${JSON.stringify(join(dir, "piped.txt"))}, 0 already present\n`)

        // A wrong passphrase: the line is erased before the error.
        const wrong = terminalIo(dir, true, { ...env, SECRETS_BACKUP_PASSPHRASE: "wrong" })
        expect(await main(["keys", "restore", "-o", "other.txt", "light.age"], wrong)).toBe(1)
        expect(wrong.err().startsWith(`${ERASE}secrets: opening the backup (scrypt: a few seconds)…`)).toBe(true)
        expect(wrong.err()).toContain(`${ERASE}secrets: error: "light.age": incorrect passphrase\n`)
    }, 60_000)
})
