import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { item, loginItem, seedStore, vault, type OpStandin } from "../../helpers/op-standin.js"
import { errLine, op, standinWith } from "./run-op.js"

describe.concurrent("op inject / run / env ls", () => {
    let standin: OpStandin
    let dir: string
    beforeAll(async () => {
        ;({ dir, standin } = await standinWith(seedStore({
            vaults: [vault("lcl", [loginItem("db", "user1", "pw-xyz"), item({ title: "cfg", fields: [{ label: "host", value: "h.local", section: "net" }] })])],
        })))
    })

    it("replaces enclosed and bare references, with variables; escapes print literally", async () => {
        const input = [
            "url=postgres://{{ op://lcl/db/username }}:{{op://lcl/db/password}}@{{ op://lcl/cfg/net/host }}",
            "bare=op://${VAULT:-nope}/db/username!",
            "esc={{ \"{{ op://lcl/db/password }}\" }}",
            "",
        ].join("\n")
        const r = await op(standin, ["inject"], { stdin: input, env: { vault: "lcl" } })
        expect(r).toEqual({
            code: 0,
            signal: null,
            stdout: "url=postgres://user1:pw-xyz@h.local\nbare=user1!\nesc={{ op://lcl/db/password }}\n",
            stderr: "",
        })
    })

    it("a stray op:// fails the whole run and -o is not written", async () => {
        const out = join(dir, "never.env")
        const r = await op(standin, ["inject", "-o", out], { stdin: "# see op:// docs\nx={{ op://lcl/db/password }}\n" })
        expect(r).toMatchObject({ code: 1, stdout: "" })
        expect(r.stderr).toMatch(errLine("invalid secret reference 'op://': too few '/': secret references should have at least vault, item and field specified"))
        expect(existsSync(out)).toBe(false)
    })

    it("-i/-o with --file-mode", async () => {
        const inFile = join(dir, "tpl")
        const out = join(dir, "out.env")
        writeFileSync(inFile, "P={{ op://lcl/db/password }}\n")
        const r = await op(standin, ["inject", "-i", inFile, "-o", out, "--file-mode", "0400"])
        expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" })
        expect(readFileSync(out, "utf8")).toBe("P=pw-xyz\n")
        expect(statSync(out).mode & 0o777).toBe(0o400)
    })

    it("run: resolves env and env files (file wins), masks values, passes the exit status through", async () => {
        const envFile = join(dir, "run.env")
        writeFileSync(envFile, "# comment\nDB_PASSWORD = \"op://lcl/db/password\"\nPLAIN='x $HOME'\n")
        const script = 'echo "$DB_PASSWORD $DB_USER $PLAIN"; echo "$DB_USER" >&2; exit 3'
        const r = await op(standin, ["run", "--env-file", envFile, "--", "sh", "-c", script], { env: { DB_USER: "op://lcl/db/username", DB_PASSWORD: "shell" } })
        expect(r).toEqual({ code: 3, signal: null, stdout: "<concealed by 1Password> <concealed by 1Password> x $HOME\n", stderr: "<concealed by 1Password>\n" })
        const plain = await op(standin, ["run", "--no-masking", `--env-file=${envFile}`, "--", "sh", "-c", 'echo "$DB_PASSWORD"'])
        expect(plain.stdout).toBe("pw-xyz\n")
        const envOff = await op(standin, ["run", "--env-file", envFile, "--", "sh", "-c", 'echo "$DB_PASSWORD"'], { env: { OP_RUN_NO_MASKING: "true" } })
        expect(envOff.stdout).toBe("pw-xyz\n")
    })

    it("env ls lists the names whose values are references", async () => {
        const r = await op(standin, ["env", "ls"], { env: { A_REF: "op://lcl/db/password", B: "plain" } })
        expect(r.stdout).toBe("A_REF\n")
    })
})
