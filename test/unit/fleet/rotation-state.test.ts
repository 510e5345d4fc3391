/**
 * The rotation state of `keys rotate` (issue 10 §1): kept in the user's state
 * directory keyed by the repository's real path and the anchor, written 0600 in a
 * 0700 directory, and validated strictly when read back, since whatever it names is
 * what the rotation re-wraps files for.
 */
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { SecretsError } from "../../../src/errors.js"
import { generateX25519Identity } from "../../../src/keys/age.js"
import {
    interruptedRotations,
    legacyStateIn,
    locateState,
    readState,
    rotationsDir,
    writeState,
    type RotationState,
    type StateLocation,
} from "../../../src/fleet/rotation-state.js"
import type { LoadedFleetConfig } from "../../../src/fleet/rekey-repo.js"
import { tempDir } from "../../helpers/tmp.js"
import { quietIo } from "../../helpers/wiring.js"

let OLD = ""
let NEW = ""
beforeAll(async () => {
    ;[OLD, NEW] = (await Promise.all([generateX25519Identity(), generateX25519Identity()])).map((k) => k.recipient) as [string, string]
})

/** A repository reached through a symbolic link, and a state directory. */
function setup(): { repo: string; link: string; io: ReturnType<typeof quietIo>; stateHome: string } {
    const base = tempDir()
    const repo = join(base, "repo")
    mkdirSync(repo)
    const link = join(base, "link")
    symlinkSync(repo, link)
    const stateHome = join(base, "state")
    return { repo, link, io: quietIo({ XDG_STATE_HOME: stateHome }), stateHome }
}

function valid(at: StateLocation): RotationState {
    return { version: 2, configDir: at.configDir, anchor: at.anchor, oldRecipient: OLD, newRecipient: NEW, keyFile: "/home/u/.config/sops/age/keys.txt", files: ["secrets/a.yaml", "secrets/b.yaml"], done: ["secrets/a.yaml"] }
}

describe("where the state lives", () => {
    it("$XDG_STATE_HOME/secrets/rotations, else ~/.local/state; a relative XDG_STATE_HOME is ignored", () => {
        expect(rotationsDir({ XDG_STATE_HOME: "/s" }, "/home/u", "linux")).toBe("/s/secrets/rotations")
        expect(rotationsDir({ XDG_STATE_HOME: "rel" }, "/home/u", "linux")).toBe("/home/u/.local/state/secrets/rotations")
        expect(rotationsDir({}, "/home/u", "linux")).toBe("/home/u/.local/state/secrets/rotations")
        expect(() => rotationsDir({}, "", "linux")).toThrow(SecretsError)
    })

    it("is named by sha256(real path of the config dir, NUL, anchor): the same through a symlink, different per anchor", async () => {
        const { repo, link, io, stateHome } = setup()
        const viaLink = await locateState(io, link, "user_alice", "alice")
        const direct = await locateState(io, repo, "user_alice", "alice")
        const hash = createHash("sha256").update(`${repo}\0user_alice`).digest("hex")
        expect(direct.path).toBe(join(stateHome, "secrets", "rotations", `${hash}.json`))
        expect(viaLink).toEqual(direct)
        expect(direct.configDir).toBe(repo)
        expect((await locateState(io, repo, "host_web1", "web1")).path).not.toBe(direct.path)
    })

    it("is written 0600 in a 0700 directory and reads back as written", async () => {
        const { repo, io, stateHome } = setup()
        const at = await locateState(io, repo, "user_alice", "alice")
        await writeState(at, valid(at))
        expect(statSync(at.path).mode & 0o777).toBe(0o600)
        expect(statSync(join(stateHome, "secrets", "rotations")).mode & 0o777).toBe(0o700)
        expect(await readState(at)).toEqual(valid(at))
        expect(readFileSync(at.path, "utf8")).not.toContain("AGE-SECRET-KEY")
    })

    it("a legacy state inside the repository is found by name only", async () => {
        const { repo } = setup()
        const key = { name: "alice", anchor: "user_alice", kind: "user" as const, recipient: OLD }
        expect(await legacyStateIn(repo, key)).toBeUndefined()
        mkdirSync(join(repo, ".secrets"))
        writeFileSync(join(repo, ".secrets", "rotate-alice.json"), "{}")
        expect(await legacyStateIn(repo, key)).toBe(join(repo, ".secrets", "rotate-alice.json"))
    })
})

describe("reading a state back", () => {
    const cases: [string, (s: RotationState) => unknown, string][] = [
        ["the old in-repo format (version 1)", (s) => ({ ...s, version: 1 }), "version"],
        ["an unknown field", (s) => ({ ...s, extra: true }), "extra"],
        ["a new recipient that does not parse", (s) => ({ ...s, newRecipient: "age1attacker" }), "newRecipient: not a recipient"],
        ["a recipient with blanks around it", (s) => ({ ...s, newRecipient: ` ${s.newRecipient}` }), "newRecipient"],
        ["the same recipient twice", (s) => ({ ...s, newRecipient: s.oldRecipient }), "the new recipient is the old one"],
        ["a file outside the repository", (s) => ({ ...s, files: [...s.files, "../../etc/x.yaml"] }), "files.2: not a plain relative path"],
        ["an absolute file", (s) => ({ ...s, files: [...s.files, "/etc/x.yaml"] }), "not a plain relative path"],
        ["a file not normalized", (s) => ({ ...s, files: [...s.files, "secrets/./c.yaml"] }), "not a plain relative path"],
        ["done not a subset of files", (s) => ({ ...s, done: ["secrets/z.yaml"] }), "subset"],
        ["a file listed twice", (s) => ({ ...s, files: [...s.files, "secrets/a.yaml"] }), "twice"],
        ["a relative key file", (s) => ({ ...s, keyFile: "keys.txt" }), "keyFile"],
        ["another repository", (s) => ({ ...s, configDir: "/elsewhere" }), `it belongs to "/elsewhere"`],
        ["another anchor", (s) => ({ ...s, anchor: "user_mallory" }), "it belongs to user_mallory"],
    ]
    it.each(cases)("refuses %s", async (_what, change, why) => {
        const { repo, io } = setup()
        const at = await locateState(io, repo, "user_alice", "alice")
        await writeState(at, valid(at))
        writeFileSync(at.path, JSON.stringify(change(valid(at))))
        const err = await readState(at).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(SecretsError)
        expect((err as SecretsError).message).toContain(`the rotation state of user_alice (${JSON.stringify(at.path)}) is not usable`)
        expect((err as SecretsError).message).toContain(why)
        expect((err as SecretsError).hints).toEqual(["drop it with `secrets keys rotate alice --abort` and start again"])
    })

    it("refuses text that is not JSON, and a symbolic link", async () => {
        const { repo, io } = setup()
        const at = await locateState(io, repo, "user_alice", "alice")
        await writeState(at, valid(at))
        writeFileSync(at.path, "{ not json")
        await expect(readState(at)).rejects.toThrow("not JSON")
        const other = join(repo, "planted.json")
        writeFileSync(other, JSON.stringify(valid(at)))
        const { rmSync } = await import("node:fs")
        rmSync(at.path)
        symlinkSync(other, at.path)
        await expect(readState(at)).rejects.toThrow("not a regular file")
    })
})

describe("interruptedRotations (for secrets status)", () => {
    it("one line per named key with a state, naming the progress and the command that resumes it", async () => {
        const { repo, io } = setup()
        const text = `keys:\n    - &user_alice ${NEW}\n    - &host_web1 ${OLD}\n    - &user_web1 ${OLD}\ncreation_rules: []\n`
        const loaded = { path: join(repo, ".sops.yaml"), dir: repo, text } as unknown as LoadedFleetConfig
        expect(await interruptedRotations(io, loaded)).toEqual([])
        const alice = await locateState(io, repo, "user_alice", "alice")
        await writeState(alice, { ...valid(alice), files: ["a", "b", "c", "d", "e", "f", "g"], done: ["a", "b", "c"] })
        const web1 = await locateState(io, repo, "host_web1", "host_web1")
        await writeState(web1, valid(web1))
        writeFileSync(web1.path, "damaged")
        expect(await interruptedRotations(io, loaded)).toEqual([
            "rotation of user_alice interrupted: 3 of 7 files done; resume with `secrets keys rotate alice`",
            // web1 is both a host and a user: the anchor names it.
            "rotation of host_web1 interrupted, and its state is not usable: drop it with `secrets keys rotate host_web1 --abort`",
        ])
    })
})
