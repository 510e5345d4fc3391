import { Command } from "commander"
import { describe, expect, it } from "vitest"

import { ageKeyOp, identityOptionsOf, withIdentityOptions } from "../../../src/cli/options.js"

describe("--age-key-op and the identity options on the Io", () => {
    it("collects repeated flags in order", () => {
        const cmd = new Command().exitOverride().addOption(ageKeyOp())
        cmd.parse(["--age-key-op", "op://A/a/identity", "--age-key-op=op://B/b/identity"], { from: "user" })
        expect(cmd.opts()).toEqual({ ageKeyOp: ["op://A/a/identity", "op://B/b/identity"] })
    })

    it("attaches the options without touching the original io or its lazy getters", () => {
        let stdinReads = 0
        const io = {
            cwd: "/w",
            env: { A: "1" },
            get stdin() {
                stdinReads++
                return "stdin"
            },
        }
        const ctx = { io, state: { exitCode: 0 } }
        const out = withIdentityOptions(ctx, { ageKeyOp: ["op://A/a/identity"], config: "/c/.sops.yaml" }, "f.yaml")
        expect(stdinReads).toBe(0)
        expect(out.state).toBe(ctx.state)
        expect(out.io.env).toBe(io.env)
        expect(out.io.cwd).toBe("/w")
        expect(out.io.stdin).toBe("stdin")
        expect(identityOptionsOf(out.io)).toEqual({ ageKeyOp: ["op://A/a/identity"], config: "/c/.sops.yaml", file: "f.yaml" })
        expect(identityOptionsOf(io)).toEqual({})
    })

    it("leaves stdin ('-') out as a file to search the config from", () => {
        const out = withIdentityOptions({ io: {} }, {}, "-")
        expect(identityOptionsOf(out.io)).toEqual({})
    })
})
