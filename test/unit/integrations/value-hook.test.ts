/**
 * integrations/value-hook.ts with real programs: the hook gets the value on stdin
 * exactly, an environment of five names and nothing else, its arguments without a
 * shell; and each way of failing (status, signal, missing, not executable) is one
 * line naming the hook.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runValueHook } from "../../../src/integrations/value-hook.js"

const dir = mkdtempSync(join(tmpdir(), "value-hook-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function script(name: string, body: string, mode = 0o755): void {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`)
    chmodSync(join(dir, name), mode)
}

const run = (hook: string, output: string[] = []) =>
    runValueHook({
        hook,
        configDir: dir,
        value: "s3cret value\nline2",
        file: "secrets/app.yaml",
        keyPath: '["db"]["password"]',
        category: "database",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, SOPS_AGE_KEY: "AGE-SECRET-KEY-1XYZ", SECRET_TOKEN: "t" },
        onOutput: (t) => output.push(t),
    })

describe("runValueHook", () => {
    it("passes the value on stdin only, five environment names, arguments without a shell", async () => {
        script("record.sh", `cat > "${dir}/stdin"; printf '%s\\n' "$@" > "${dir}/argv"; env | grep -v '^PWD=\\|^SHLVL=\\|^_=' | sort > "${dir}/env"; echo done`)
        const output: string[] = []
        await run("./record.sh a;b $(id)", output)
        expect(readFileSync(join(dir, "stdin"), "utf8")).toBe("s3cret value\nline2")
        expect(readFileSync(join(dir, "argv"), "utf8")).toBe("a;b\n$(id)\n")
        expect(readFileSync(join(dir, "env"), "utf8")).toBe(
            [`HOME=${dir}`, `PATH=${process.env.PATH ?? "/usr/bin:/bin"}`, "SECRETS_CATEGORY=database", `SECRETS_FILE=secrets/app.yaml`, `SECRETS_KEY_PATH=["db"]["password"]`, ""].join("\n"),
        )
        expect(output.join("")).toBe("done\n")
    })

    it("names the hook and how it failed", async () => {
        script("fail.sh", "cat >/dev/null; exit 7")
        script("killed.sh", "kill -TERM $$")
        script("noexec.sh", "exit 0", 0o644)
        await expect(run("./fail.sh")).rejects.toThrow("hook ./fail.sh exited with status 7: the file was not changed")
        await expect(run("./killed.sh")).rejects.toThrow("hook ./killed.sh was killed by SIGTERM")
        await expect(run("./missing.sh")).rejects.toThrow("hook ./missing.sh could not be started (not found)")
        await expect(run("./noexec.sh")).rejects.toThrow("hook ./noexec.sh could not be started (not executable)")
    })
})
