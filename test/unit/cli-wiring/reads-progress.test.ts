/**
 * `access` and `rotate --due` over many files show how far they are at a terminal,
 * as `status` does (issue 14 target 7), erase the line before their own output, and
 * print nothing of it when stderr is not a terminal. Real program, real files; the
 * terminal is an Io whose stderr says isTTY.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Readable } from "node:stream"
import { describe, expect, it } from "vitest"
import { main } from "../../../src/main.js"
import type { Io } from "../../../src/files/io.js"
import { tempDir } from "../../helpers/tmp.js"
import { fiveRecipients, HistoryRepo } from "../fleet-status/history-repo.js"

const ERASE = "\r\x1b[2K"

function terminalIo(cwd: string, isTTY: boolean): Io & { err: () => string; out: () => string } {
    let err = ""
    let out = ""
    return {
        cwd,
        env: { HOME: cwd, PATH: process.env.PATH ?? "/usr/bin:/bin" },
        stdin: Readable.from([]),
        stdout: { write: (s: string | Uint8Array) => ((out += String(s)), true), isTTY },
        stderr: Object.assign({ write: (s: string | Uint8Array) => ((err += String(s)), true), isTTY }, isTTY ? { columns: 60 } : {}),
        now: () => new Date("2030-03-10T00:00:00Z"),
        err: () => err,
        out: () => out,
    }
}

/** 12 encrypted files in a git repository, all due under a 30-day policy, and one plaintext file. */
async function repo(): Promise<string> {
    const r = new HistoryRepo(join(tempDir(), "repo"))
    const rs = (await fiveRecipients()).slice(0, 2)
    writeFileSync(join(r.dir, ".sops.yaml"), `creation_rules:\n    - path_regex: ^secrets/\n      age: ${rs.join(",")}\nsecrets:\n    rotation:\n        max_age: 30d\n`)
    for (let i = 0; i < 12; i++) await r.write(`secrets/f${String(i).padStart(2, "0")}.yaml`, "new")
    r.commit("2030-01-01T00:00:00Z", "first")
    mkdirSync(join(r.dir, "secrets", "plain"))
    writeFileSync(join(r.dir, "secrets", "plain", "p.env"), "A=1\n")
    return r.dir
}

describe("progress at a terminal", () => {
    it("access: reading files, erased before the warnings and the table; nothing of it in a pipe", async () => {
        const dir = await repo()
        const tty = terminalIo(dir, true)
        expect(await main(["access"], tty)).toBe(0)
        expect(tty.err()).toContain(`${ERASE}secrets: reading files 0/13`)
        expect(tty.err()).toContain(`${ERASE}secrets: reading files 12/13`)
        expect(tty.err().endsWith(`${ERASE}secrets: warning: secrets/plain/p.env is not encrypted: anyone with the repository can read it\n`)).toBe(true)

        const piped = terminalIo(dir, false)
        expect(await main(["access"], piped)).toBe(0)
        expect(piped.err()).toBe("secrets: warning: secrets/plain/p.env is not encrypted: anyone with the repository can read it\n")
        expect(piped.out()).toBe(tty.out())
    })

    it("rotate --due --dry-run: reading files and git history, erased before the list", async () => {
        const dir = await repo()
        const tty = terminalIo(dir, true)
        expect(await main(["rotate", "--due", "--dry-run"], tty)).toBe(0)
        expect(tty.err()).toContain(`${ERASE}secrets: reading files 0/13`)
        expect(tty.err()).toContain(`${ERASE}secrets: reading git history 1/13`)
        expect(tty.err()).toContain(`${ERASE}secrets: reading git history 13/13`)
        // The line is gone before the summary; the list on stdout has no control characters.
        expect(tty.err().endsWith(`${ERASE}secrets: dry run: 12 files would be rotated, nothing written\n`)).toBe(true)
        expect(tty.out()).not.toContain("\r")
        expect(tty.out().split("\n").filter((l) => l.startsWith("would rotate secrets/f"))).toHaveLength(12)

        const piped = terminalIo(dir, false)
        expect(await main(["rotate", "--due", "--dry-run"], piped)).toBe(0)
        expect(piped.err()).toBe("secrets: dry run: 12 files would be rotated, nothing written\n")
        expect(piped.out()).toBe(tty.out())
    })
})
