/**
 * exec-env safe by default (issue 10 §5): a value that was not decrypted never sets
 * PATH, LD_* and the other dangerous names, nulls are left out, and the programs we
 * start do not inherit the identity variables. The denylist in the code and the
 * one in docs/commands/exec.md are the same list.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { entry, int, map, nil, str, type Scalar } from "../../../src/core/tree.js"
import { envFromBranch, type SkipReason } from "../../../src/files/env-from-tree.js"
import { DANGEROUS_FAMILIES, dangerousFamily } from "../../../src/files/env-denylist.js"
import { childBaseEnvironment, IDENTITY_VARIABLES } from "../../../src/cli/identity-env.js"

const ROOT = join(import.meta.dirname, "../../..")

/** envFromBranch with `decrypted` as the keys whose values were decrypted; the skips it reported. */
function run(branch: ReturnType<typeof map>, decrypted: readonly string[]) {
    const skipped: [string, SkipReason][] = []
    const seen: [string, Scalar][] = []
    const vars = envFromBranch(branch, {
        wasDecrypted: (key, value) => {
            seen.push([key, value])
            return decrypted.includes(key)
        },
        onSkip: (key, reason) => skipped.push([key, reason]),
    })
    return { vars, skipped, seen }
}

const DANGEROUS = [
    "PATH",
    "CDPATH",
    "IFS",
    "ENV",
    "BASH_ENV",
    "BASH_FUNC_ls%%",
    "SHELLOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "DYLD_INSERT_LIBRARIES",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "RUBYOPT",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "LUA_INIT",
    "npm_config_script_shell",
    "GIT_SSH_COMMAND",
    "GIT_CONFIG_COUNT",
    "EDITOR",
    "KUBECONFIG",
    "HOME",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_RECIPIENTS",
    "SECRETS_OP_BIN",
    "HTTPS_PROXY",
    "https_proxy",
    "NODE_EXTRA_CA_CERTS",
    "HOSTALIASES",
]

// Near misses that must stay ordinary: other names, other case, longer names.
const ORDINARY = ["DATABASE_URL", "API_TOKEN", "NODE_ENV", "PATHNAME", "path", "LDAP_URL", "ENVIRONMENT", "HOME_DIR", "PORT", "GITHUB_TOKEN", "PS1"]

describe("dangerous names need a decrypted value", () => {
    it.each(DANGEROUS)("%s from a value that was not decrypted is left out and reported, never its value", (name) => {
        const { vars, skipped } = run(map(entry("before", str("b")), entry(name, str("/tmp/evil")), entry("after", int(1))), [])
        expect(vars).toEqual([
            ["before", "b"],
            ["after", "1"],
        ])
        expect(skipped).toEqual([[name, { kind: "not-encrypted", what: dangerousFamily(name)?.what }]])
        expect(JSON.stringify(skipped)).not.toContain("/tmp/evil")
    })

    it("the same names from decrypted values are set: whoever encrypted them holds the data key", () => {
        const branch = map(...DANGEROUS.map((n) => entry(n, str(`v-${n}`))))
        const { vars, skipped } = run(branch, DANGEROUS)
        expect(vars).toEqual(DANGEROUS.map((n) => [n, `v-${n}`]))
        expect(skipped).toEqual([])
    })

    it("an empty PATH (the current directory) that was not decrypted is left out too", () => {
        const { vars, skipped } = run(map(entry("PATH", str(""))), [])
        expect(vars).toEqual([])
        expect(skipped.map(([k]) => k)).toEqual(["PATH"])
    })

    it.each(ORDINARY)("%s is set from any value, as sops does", (name) => {
        const { vars, skipped, seen } = run(map(entry(name, str("x"))), [])
        expect(vars).toEqual([[name, "x"]])
        expect(skipped).toEqual([])
        // The question is asked only for dangerous names.
        expect(seen).toEqual([])
    })

    it("without wasDecrypted no value counts as decrypted", () => {
        const skipped: string[] = []
        expect(envFromBranch(map(entry("LD_PRELOAD", str("x")), entry("a", str("y"))), { onSkip: (k) => skipped.push(k) })).toEqual([["a", "y"]])
        expect(skipped).toEqual(["LD_PRELOAD"])
    })

    it("asks about the value it would export, under its top-level key", () => {
        const { seen } = run(map(entry("PATH", str("/opt/bin"))), ["PATH"])
        expect(seen).toEqual([["PATH", str("/opt/bin")]])
    })
})

describe("nulls", () => {
    it("are left out whatever the name, and reported", () => {
        const { vars, skipped } = run(map(entry("a", str("1")), entry("nothing", nil), entry("PATH", nil)), ["nothing", "PATH"])
        expect(vars).toEqual([["a", "1"]])
        expect(skipped).toEqual([
            ["nothing", { kind: "null" }],
            ["PATH", { kind: "null" }],
        ])
    })
})

describe("the documented denylist", () => {
    const doc = readFileSync(join(ROOT, "docs/commands/exec.md"), "utf8")

    it("names every name and prefix of the code, and no name the code does not have", () => {
        const section = doc.slice(doc.indexOf("<!-- denylist -->"), doc.indexOf("<!-- /denylist -->"))
        expect(section.length).toBeGreaterThan(100)
        const documented = [...section.matchAll(/`([A-Za-z_0-9]+)(\*?)`/g)].map((m) => `${m[1]}${m[2]}`).sort()
        const code = DANGEROUS_FAMILIES.flatMap((f) => [...f.names, ...f.prefixes.map((p) => `${p}*`)]).sort()
        expect(documented).toEqual(code)
    })
})

describe("identity variables", () => {
    const ours = {
        HOME: "/home/me",
        PATH: "/usr/bin",
        SOPS_AGE_KEY: "AGE-SECRET-KEY-1XYZ",
        SOPS_AGE_KEY_FILE: "/k.txt",
        SOPS_AGE_KEY_CMD: "vault read key",
        SOPS_AGE_SSH_PRIVATE_KEY_FILE: "/id",
        SOPS_AGE_SSH_PRIVATE_KEY_CMD: "cat /id",
        SECRETS_AGE_KEY_OP: "op://v/i/f",
        SOPS_AGE_RECIPIENTS: "age1…",
        OP_SERVICE_ACCOUNT_TOKEN: "ops_…",
        UNSET: undefined,
    }

    it("are removed from the environment we give children, everything else kept", () => {
        expect({ ...childBaseEnvironment(ours, false) }).toEqual({
            HOME: "/home/me",
            PATH: "/usr/bin",
            SOPS_AGE_RECIPIENTS: "age1…",
            OP_SERVICE_ACCOUNT_TOKEN: "ops_…",
        })
    })

    it("are all kept with --pass-identity-env", () => {
        const { UNSET: _, ...defined } = ours
        expect({ ...childBaseEnvironment(ours, true) }).toEqual(defined)
    })

    it("are every variable identity-sources.ts reads an identity from", () => {
        const source = readFileSync(join(ROOT, "src/files/identity-sources.ts"), "utf8")
        const read = new Set([...source.matchAll(/\b((?:SOPS|SECRETS)_AGE_[A-Z_]+)\b/g)].map((m) => m[1] ?? ""))
        // Recipients are public: SOPS_AGE_RECIPIENT is what a key command is told.
        for (const r of [...read]) if (/RECIPIENTS?$/.test(r)) read.delete(r)
        expect([...read].sort()).toEqual([...IDENTITY_VARIABLES].sort())
    })
})
