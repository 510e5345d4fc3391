/**
 * What must never happen while building a generation as root: a failed build
 * changing the active generation, a half-built directory left behind, a write
 * through a planted symlink, a setuid file, a name escaping the generation.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { activeGeneration, buildGeneration, listGenerations, switchGeneration } from "../../../src/delivery/generations.js"
import { tempDir } from "../../helpers/tmp.js"
import { DAEMON, item, newStore, snapshot } from "./store-fixture.js"

describe("a build that fails half-way", () => {
    it("removes the half-built generation and leaves the active one byte-identical", async () => {
        const store = newStore()
        await switchGeneration(store, await buildGeneration(store, [item("a", "old-a", { uid: DAEMON.uid, mode: 0o440 }), item("b", "old-b")]))
        const before = snapshot(join(store.root, "run"))

        const items = [item("a", "new-a"), item("b", "new-b"), item("c", "new-c")]
        const failAfterB = async (name: string): Promise<void> => {
            if (name === "b") throw Object.assign(new Error("no space"), { code: "ENOSPC" })
        }
        const err = await buildGeneration(store, items, { afterItem: failAfterB }).catch((e: unknown) => e)
        expect(String(err)).toContain(`could not build generation 2 in "${join(store.root, "run/secrets.d")}": "b": ENOSPC`)
        expect((err as { hints: string[] }).hints.join("\n")).toContain("nothing was switched")
        expect(existsSync(join(store.root, "run/secrets.d/2"))).toBe(false)
        expect(snapshot(join(store.root, "run"))).toEqual(before)

        // The next build takes the same number and succeeds.
        expect(await buildGeneration(store, items)).toBe(2)
    })

    it("rejects bad items before creating anything", async () => {
        const store = newStore()
        const cases: [ReturnType<typeof item>[], string][] = [
            [[item("../escape", "x")], `deploy item "../escape": the name must be a relative path`],
            [[item("/abs", "x")], `deploy item "/abs": the name must be`],
            [[item(".manifest.json", "x")], `".manifest.json" is reserved`],
            [[item("a", "1"), item("a", "2")], `deploy item "a": the name is used twice`],
            [[item("a", "1"), item("a/b", "2")], `deploy item "a/b": it would be inside "a", which is a file of its own`],
            [[item("s", "x", { mode: 0o4755 })], `deploy item "s": the mode must be permission bits from 0000 to 0777`],
            [[item("u", "x", { uid: -1 })], `deploy item "u": the uid must be a whole number`],
            [[item("l", "x", { link: "etc/relative" })], `"l": the path "etc/relative" must be an absolute, normalized path`],
            [[item("l", "x", { link: "/run/secrets/loop" })], `must be an absolute, normalized path outside /run/secrets*`],
            [[item("l", "x", { link: "/etc/x" }), item("m", "y", { link: "/etc/x" })], `deploy item "m": its path "/etc/x" is also the path of "l"`],
        ]
        for (const [items, message] of cases) await expect(buildGeneration(store, items)).rejects.toThrow(message)
        expect(existsSync(join(store.root, "run"))).toBe(false)
    })
})

describe("planted symlinks", () => {
    it("replaces a symlink planted at secrets.d/N and never writes through it", async () => {
        const store = newStore()
        const elsewhere = tempDir()
        writeFileSync(join(elsewhere, "keep"), "untouched")
        const before = snapshot(elsewhere)
        mkdirSync(join(store.root, "run/secrets.d"), { recursive: true, mode: 0o751 })
        symlinkSync(elsewhere, join(store.root, "run/secrets.d/1"))
        const n = await buildGeneration(store, [item("keep", "secret"), item("new", "secret")])
        expect(n).toBe(1)
        expect(lstatSync(join(store.root, "run/secrets.d/1")).isDirectory()).toBe(true)
        expect(snapshot(elsewhere)).toEqual(before)
        await switchGeneration(store, n)
        expect(readFileSync(join(store.root, "run/secrets/keep"), "utf8")).toBe("secret")
    })

    it("does not count a planted symlink as a complete generation, nor switch to it", async () => {
        const store = newStore()
        const fake = tempDir()
        writeFileSync(join(fake, ".manifest.json"), JSON.stringify({ version: 1, generation: 5, created: "x", items: [] }))
        mkdirSync(join(store.root, "run/secrets.d"), { recursive: true, mode: 0o751 })
        symlinkSync(fake, join(store.root, "run/secrets.d/5"))
        await expect(switchGeneration(store, 5)).rejects.toThrow("generation 5")
        expect(await buildGeneration(store, [item("a", "1")])).toBe(1)
        expect(await listGenerations(store)).toEqual([{ n: 1, active: false, complete: true }])
    })

    it("refuses a secrets.d that is a symlink, or writable by others, and writes nothing", async () => {
        const store = newStore()
        const elsewhere = tempDir()
        mkdirSync(join(store.root, "run"))
        symlinkSync(elsewhere, join(store.root, "run/secrets.d"))
        await expect(buildGeneration(store, [item("a", "1")])).rejects.toThrow(`refusing to deploy into "${join(store.root, "run/secrets.d")}": it is a symbolic link`)
        expect(readdirSync(elsewhere)).toEqual([])

        const open = newStore()
        mkdirSync(join(open.root, "run/secrets.d"), { recursive: true })
        chmodSync(join(open.root, "run/secrets.d"), 0o777)
        await expect(buildGeneration(open, [item("a", "1")])).rejects.toThrow("with mode 0777, so someone else could change what is in it")
        expect(readdirSync(join(open.root, "run/secrets.d"))).toEqual([])
    })

    it("refuses to replace a /run/secrets that is a real directory", async () => {
        const store = newStore()
        mkdirSync(join(store.root, "run/secrets"), { recursive: true })
        writeFileSync(join(store.root, "run/secrets/old"), "someone's")
        await expect(buildGeneration(store, [item("a", "1")])).rejects.toThrow("it is not a symbolic link, so it is not one deploy made")
        expect(readFileSync(join(store.root, "run/secrets/old"), "utf8")).toBe("someone's")
        expect(await activeGeneration(store)).toBeUndefined()
    })

    it("switches by rename: the link is never missing and the temp link is gone", async () => {
        const store = newStore()
        await switchGeneration(store, await buildGeneration(store, [item("a", "1")]))
        await switchGeneration(store, await buildGeneration(store, [item("a", "2")]))
        expect(readlinkSync(join(store.root, "run/secrets"))).toBe("secrets.d/2")
        expect(readdirSync(join(store.root, "run")).sort()).toEqual(["secrets", "secrets.d"])
    })
})
