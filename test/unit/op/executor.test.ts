import { chmodSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { OpError, createOpClient, execaExecutor } from "../../../src/integrations/op.js"
import type { OpItemTemplate } from "../../../src/integrations/op-types.js"
import { caught } from "../../helpers/errors.js"
import { tempDir } from "../../helpers/tmp.js"

/**
 * A tiny fake `op` as a shell script, run through the real executor (execa): it
 * logs its argv and what its stdin is, then acts as FAKE_MODE says.
 */
function fakeOp(dir: string): string {
    const bin = join(dir, "op")
    writeFileSync(
        bin,
        `#!/bin/sh
log="$FAKE_DIR/log"
printf '%s\\n' "$*" >> "$log"
printf 'stdin=%s\\n' "$(readlink /proc/self/fd/0)" >> "$log"
case "$FAKE_MODE" in
  hang) sleep 3600 & echo $! > "$FAKE_DIR/sleep.pid"; wait ;;
  multiline) printf 'line one\\nline two\\n\\n' ;;
  empty) ;;
  stderr0) printf 'value'; printf '[ERROR] 2023/03/10 21:14:03 something odd\\n' >&2 ;;
  exit2) printf 'panic: runtime error\\n\\ngoroutine 1 [running]:\\n' >&2; exit 2 ;;
  exit4) printf '[ERROR] 2024/01/01 00:00:00 (400) Bad Request: The structure of request was invalid.\\n' >&2; exit 4 ;;
  create) cat > "$FAKE_DIR/stdin"; printf '{"id":"a","title":"t","version":1,"vault":{"id":"v","name":"Prod"},"category":"LOGIN","fields":[]}\\n' ;;
esac
`,
    )
    chmodSync(bin, 0o755)
    return bin
}

const env = (dir: string, mode: string): Record<string, string> => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", FAKE_DIR: dir, FAKE_MODE: mode })

describe("the real executor", () => {
    it("kills a hung op at the timeout, even with a child holding its pipes", async () => {
        const dir = tempDir()
        const client = createOpClient({ env: env(dir, "hang"), bin: fakeOp(dir), timeoutMs: 1000 })
        const start = Date.now()
        const e = (await caught(client.read("op://V/i/f"))) as OpError
        const took = Date.now() - start
        expect(e.kind).toBe("timeout")
        expect(e.message).toBe('op read timed out after 1 s (needed for "op://V/i/f")')
        // Not before the deadline (a timer never fires early)...
        expect(took).toBeGreaterThanOrEqual(1000)
        // ...and without waiting for the pipes that op's child still holds: that child
        // is alive now, so the call returned without it. No upper bound on the time.
        const sleeper = Number(readFileSync(join(dir, "sleep.pid"), "utf8"))
        expect(() => process.kill(sleeper, 0)).not.toThrow()
        process.kill(sleeper, "SIGKILL")
    })

    it("returns a multi-line value exactly, with stdin on /dev/null", async () => {
        const dir = tempDir()
        const client = createOpClient({ env: env(dir, "multiline"), bin: fakeOp(dir) })
        expect(await client.read("op://My Vault/my item/private key")).toBe("line one\nline two\n\n")
        expect(readFileSync(join(dir, "log"), "utf8")).toBe("read --no-newline op://My Vault/my item/private key\nstdin=/dev/null\n")
    })

    it("returns an empty value as the empty string", async () => {
        const dir = tempDir()
        expect(await createOpClient({ env: env(dir, "empty"), bin: fakeOp(dir) }).read("op://V/i/f")).toBe("")
    })

    it("sends a template on stdin (a pipe), and only then", async () => {
        const dir = tempDir()
        const client = createOpClient({ env: env(dir, "create"), bin: fakeOp(dir) })
        const template: OpItemTemplate = { title: "t", category: "LOGIN", fields: [{ id: "password", type: "CONCEALED", value: "s3cr3t\nx" }] }
        expect((await client.createItem("Prod", template)).id).toBe("a")
        expect(readFileSync(join(dir, "stdin"), "utf8")).toBe(`${JSON.stringify(template)}\n`)
        const log = readFileSync(join(dir, "log"), "utf8").split("\n")
        expect(log[0]).toBe("item create - --vault Prod --format json")
        // Node hands a child its stdin as a socket pair (libuv), as op-js does with real op.
        expect(log[1]).toMatch(/^stdin=(pipe|socket):\[\d+\]$/)
        expect(log.join("\n")).not.toContain("s3cr3t")
    })

    it("treats stderr with exit status 0 as a failure", async () => {
        const dir = tempDir()
        const e = (await caught(createOpClient({ env: env(dir, "stderr0"), bin: fakeOp(dir) }).read("op://V/i/f"))) as OpError
        expect(e.kind).toBe("failed")
        expect(e.hints).toEqual(["op said: something odd"])
    })

    it.each([
        ["exit2", "crashed", 'op read crashed (exit status 2) (needed for "op://V/i/f")'],
        ["exit4", "failed", 'op read failed (exit status 4) (needed for "op://V/i/f")'],
    ])("%s", async (mode, kind, message) => {
        const dir = tempDir()
        const e = (await caught(createOpClient({ env: env(dir, mode), bin: fakeOp(dir) }).read("op://V/i/f"))) as OpError
        expect(e.kind).toBe(kind)
        expect(e.message).toBe(message)
    })

    it("op not installed", async () => {
        const dir = tempDir()
        const e = (await caught(createOpClient({ env: { PATH: dir }, bin: "op" }).read("op://V/i/f"))) as OpError
        expect(e.kind).toBe("not-installed")
        expect(e.message).toBe('cannot run "op": the 1Password CLI is not installed or not on PATH (needed for "op://V/i/f")')
    })

    it("an op that is not executable", async () => {
        const dir = tempDir()
        const bin = join(dir, "op")
        writeFileSync(bin, "#!/bin/sh\n", { mode: 0o644 })
        const run = await execaExecutor(bin, ["--version"], { env: {}, timeoutMs: 5000 })
        expect(run.spawnError).toBe("EACCES")
        const e = (await caught(createOpClient({ env: {}, bin }).read("op://V/i/f"))) as OpError
        expect(e.message).toBe(`cannot run ${JSON.stringify(bin)} (EACCES) (needed for "op://V/i/f")`)
    })
})
