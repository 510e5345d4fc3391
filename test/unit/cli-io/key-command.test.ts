import { caught } from "../../helpers/errors.js"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { runKeyCommand } from "../../../src/integrations/key-command.js"
import { tempDir } from "../../helpers/tmp.js"

const env = { PATH: process.env.PATH, HOME: "/nonexistent-home" }

describe("runKeyCommand", () => {
    it("runs a script without a shell and passes SOPS_AGE_RECIPIENT", async () => {
        const dir = tempDir()
        const script = join(dir, "key cmd.sh")
        writeFileSync(script, "#!/bin/sh\nprintf '# for %s\\nAGE-SECRET-KEY-1FAKE %s|%s\\n' \"$SOPS_AGE_RECIPIENT\" \"$1\" \"$HOME\"\n", { mode: 0o755 })
        const out = await runKeyCommand(`'${script}' "arg with space"`, env, "age1recipient")
        expect(out).toBe("# for age1recipient\nAGE-SECRET-KEY-1FAKE arg with space|/nonexistent-home\n")
    })

    it("leaves SOPS_AGE_RECIPIENT unset without a recipient, and uses exactly the given env", async () => {
        const out = await runKeyCommand("sh -c 'echo \"${SOPS_AGE_RECIPIENT-unset} ${FROM_PARENT-absent}\"'", env)
        expect(out).toBe("unset absent\n")
    })

    it("gives the child an empty stdin", async () => {
        expect(await runKeyCommand("cat", env)).toBe("")
    })

    it("names only the program on failure, with the end of stderr as a hint", async () => {
        const e = await caught(runKeyCommand("sh -c 'echo progress >&2; echo \"not signed in\" >&2; exit 2' op-token-abc", env))
        expect(e.message).toBe("key command \"sh\" exited with status 2")
        expect(e.hints).toEqual(["its stderr ended with: not signed in"])
        expect(e.message + e.hints.join("")).not.toContain("op-token-abc")
    })

    it("never puts stdout in the error", async () => {
        const e = await caught(runKeyCommand("sh -c 'echo AGE-SECRET-KEY-1SHOULDNOTLEAK; exit 1'", env))
        expect(e.message).toBe("key command \"sh\" exited with status 1")
        expect(e.hints).toEqual([])
    })

    it("times out", async () => {
        // Far past the test's own timeout: only the kill can end the call in time, so
        // no bound on the elapsed time is needed (issue 10 §16: no wall-clock asserts).
        const e = await caught(runKeyCommand("sleep 3600", env, undefined, { timeoutMs: 300 }))
        expect(e.message).toBe("key command \"sleep\" timed out after 0.3 s")
    })

    it("reports a missing program", async () => {
        const e = await caught(runKeyCommand("no-such-key-tool-xyz read secret", env))
        expect(e.message).toBe("could not run key command \"no-such-key-tool-xyz\" (ENOENT)")
        expect(e.hints).toEqual(["the program is not on PATH"])
    })

    it("rejects an unparsable or empty command", async () => {
        expect((await caught(runKeyCommand("op read 'x", env))).message).toBe("could not parse the key command: malformed command line: a quote is not closed")
        expect((await caught(runKeyCommand("  # nothing", env))).message).toBe("the key command is empty")
    })
})
