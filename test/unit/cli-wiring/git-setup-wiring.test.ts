/**
 * `secrets git setup`'s flags reach the command, and `.pre-commit-hooks.yaml` (the
 * pre-commit framework's hook list) names a command the program has: its `entry`
 * dispatches to `git pre-commit`, the command the installed hook runs.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { describe, expect, it } from "vitest"
import { main } from "../../../src/main.js"
import { quietIo, recorder } from "../../helpers/wiring.js"

const ROOT = join(import.meta.dirname, "../../..")

describe("git setup wiring", () => {
    it("passes --check, --global, --json and --command", async () => {
        const r = recorder()
        expect(await main(["git", "setup", "--check", "--global", "--json", "--command", "/opt/secrets"], quietIo(), r.dispatch)).toBe(0)
        expect(r.calls).toHaveLength(1)
        expect(r.calls[0]?.command).toBe("git setup")
        expect(r.calls[0]?.opts).toMatchObject({ check: true, global: true, json: true, command: "/opt/secrets" })
    })

    it(".pre-commit-hooks.yaml offers secrets-pre-commit, running `secrets git pre-commit` without file names", async () => {
        const hooks = parse(readFileSync(join(ROOT, ".pre-commit-hooks.yaml"), "utf8")) as Record<string, unknown>[]
        const hook = hooks.find((h) => h.id === "secrets-pre-commit")
        expect(hook).toMatchObject({ entry: "secrets git pre-commit", language: "system", pass_filenames: false })
        const argv = String(hook?.entry).split(" ")
        expect(argv[0]).toBe("secrets")
        const r = recorder()
        expect(await main(argv.slice(1), quietIo(), r.dispatch)).toBe(0)
        expect(r.calls.map((c) => c.command)).toEqual(["git pre-commit"])
    })
})
