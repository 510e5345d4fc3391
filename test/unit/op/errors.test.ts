import { describe, expect, it } from "vitest"

import { ExitCode } from "../../../src/errors.js"
import { INSTALL_HINT, OpError, SIGN_IN_HINT, TIMEOUT_HINT, classifyOpFailure, parseOpStderr } from "../../../src/integrations/op-errors.js"
import type { OpErrorKind } from "../../../src/integrations/op-types.js"

const TS = "[ERROR] 2023/03/10 21:14:03 "
const err = (msg: string): string => `${TS}${msg}\n`

const READ = "\"op://V/nope/password\""
const ITEM = "item \"db\" in vault \"Prod\""

const ITEM_HINT = "check the item title or use its ID (`op item list --vault VAULT`)"
const VAULT_HINT = "check the vault name or use its ID (`op vault list`); a service account sees only the vaults it was granted"
const FIELD_HINT = "check the field label, and the section for op://vault/item/section/field (`op item get ITEM --vault VAULT` lists the fields)"
const APP_HINT = "unlock the 1Password app and approve its prompt (Settings > Developer > Integrate with 1Password CLI)"
const REF_HINT = "a reference looks like op://vault/item/field or op://vault/item/section/field"

interface Case {
    readonly name: string
    readonly text: string
    readonly what?: string
    readonly command?: string
    readonly exitCode?: number
    readonly kind: OpErrorKind
    readonly message: string
    readonly hints: readonly string[]
}

const said = (text: string): string => `op said: ${text}`

// Every error text quoted in op-cli.md §2, §3, §4, §6 and §7, as op prints it.
const cases: Case[] = [
    {
        name: "§2 item not found (2.39)",
        text: "could not read secret 'op://V/nope/password': could not get item V/nope: \"nope\" isn't an item in the \"V\" vault. Specify the item with its UUID, name, or domain.",
        kind: "item-not-found",
        message: `1Password item "nope" not found in vault "V" (needed for ${READ})`,
        hints: [ITEM_HINT],
    },
    {
        name: "§2 vault not found (read)",
        text: "could not read secret 'op://agents/Coinbase Developer Platform/API key ID': could not get item agents/Coinbase Developer Platform: \"agents\" isn't a vault in this account.",
        kind: "vault-not-found",
        message: `1Password vault "agents" not found (needed for ${READ})`,
        hints: [VAULT_HINT],
    },
    {
        name: "§2 field not found (2.39)",
        text: "could not read secret 'op://V/engagement/nope': item 'V/engagement' does not have a field 'nope'",
        kind: "field-not-found",
        message: `1Password item "V/engagement" has no field "nope" (needed for ${READ})`,
        hints: [FIELD_HINT],
    },
    {
        name: "§2 field not found (2022, Connect)",
        text: "could not read secret op://Systems-staging/.env.api/SOME_API_KEY: could not find field or file SOME_API_KEY on item .env.api in vault Systems-staging",
        kind: "field-not-found",
        message: `1Password item "Systems-staging/.env.api" has no field "SOME_API_KEY" (needed for ${READ})`,
        hints: [FIELD_HINT],
    },
    {
        name: "§2 not signed in (read)",
        text: "could not read secret 'op://V/x/y': error initializing client: You are not currently signed in. Please run `op signin --help` for instructions",
        kind: "signed-out",
        message: `the 1Password CLI is not signed in (needed for ${READ})`,
        hints: [SIGN_IN_HINT],
    },
    {
        name: "§2 no session token for an account",
        text: "could not find session token for account my",
        kind: "signed-out",
        message: `the 1Password CLI is not signed in (needed for ${READ})`,
        hints: [SIGN_IN_HINT],
    },
    {
        name: "§2 forbidden",
        text: "(403) Forbidden: You aren't authorized to access this resource.",
        kind: "forbidden",
        message: `1Password denied access (403 forbidden) (needed for ${READ})`,
        hints: ["the signed-in account or service account has no permission for this vault or item"],
    },
    {
        name: "§2 desktop app: cannot setup session",
        text: "could not read secret 'op://Dev/x/y': error initializing client: RequestDelegatedSession: cannot setup session. Please check the logs of the 1Password app.",
        kind: "signed-out",
        message: `the 1Password app did not authorize the CLI (needed for ${READ})`,
        hints: [APP_HINT, SIGN_IN_HINT],
    },
    {
        name: "§2 desktop app: authorization timeout",
        text: "could not read secret 'op://Dev/x/y': error initializing client: authorization timeout",
        kind: "signed-out",
        message: `the 1Password app did not authorize the CLI (needed for ${READ})`,
        hints: [APP_HINT, SIGN_IN_HINT],
    },
    {
        name: "§2 desktop app: prompt dismissed",
        text: "could not read secret 'op://Dev/x/y': error initializing client: authorization prompt dismissed, please try again",
        kind: "signed-out",
        message: `the 1Password app did not authorize the CLI (needed for ${READ})`,
        hints: [APP_HINT, SIGN_IN_HINT],
    },
    {
        name: "§2 malformed service-account token",
        text: "could not read secret 'op://NoVault/NoItem/token': error initializing client: Validation: (failed to session.DecodeSACredentials), Server: (failed to DecodeSACredentials), illegal base64 data at input byte 12",
        kind: "signed-out",
        message: `the 1Password service account token is not valid (needed for ${READ})`,
        hints: ["set OP_SERVICE_ACCOUNT_TOKEN to the whole token (it starts with ops_)"],
    },
    {
        name: "§2 deleted service account",
        text: "error initializing client: Authentication: (failed to auth.LookupAuth), Network: (failed to request.DoUnencrypted), Server: (403) (Forbidden (Service Account Deleted)), The Service Account used in this integration has been deleted.",
        what: ITEM,
        command: "op item get",
        kind: "signed-out",
        message: `the 1Password service account was deleted (needed for ${ITEM})`,
        hints: ["create a new service account and set OP_SERVICE_ACCOUNT_TOKEN to its token"],
    },
    {
        name: "§2 rate limit",
        text: "(429) Too Many Requests: You've reached the maximum number of this type of requests this service account is allowed to make. Please retry in 58 minutes or try other requests.",
        kind: "rate-limited",
        message: `1Password rate limit reached (needed for ${READ})`,
        hints: ["the hourly request limit is used up; retry in 58 minutes", "fewer requests per run: refer to vaults and items by ID rather than by name"],
    },
    {
        name: "§1 too few '/'",
        text: "invalid secret reference 'op://': too few '/': secret references should have at least vault, item and field specified",
        kind: "bad-reference",
        message: "invalid secret reference 'op://': too few '/': secret references should have at least vault, item and field specified",
        hints: [REF_HINT],
    },
    {
        name: "§1 too many '/'",
        text: "invalid secret reference 'op://a/b/c/d/e': too many '/': secret references should match op://<vault>/<item>[/<section>]/<field>",
        kind: "bad-reference",
        message: "invalid secret reference 'op://a/b/c/d/e': too many '/': secret references should match op://<vault>/<item>[/<section>]/<field>",
        hints: [REF_HINT],
    },
    {
        name: "§3 item get, not found in a vault",
        text: "\"non-existent-item\" isn't an item in the \"Test Data\" vault. Specify the item with its UUID, name, or domain.",
        what: ITEM,
        command: "op item get",
        kind: "item-not-found",
        message: `1Password item "non-existent-item" not found in vault "Test Data" (needed for ${ITEM})`,
        hints: [ITEM_HINT],
    },
    {
        name: "§3 item get, not found without --vault",
        text: "\"Invalid Item\" isn't an item. Specify the item with its UUID, name, or domain.",
        what: ITEM,
        kind: "item-not-found",
        message: `1Password item "Invalid Item" not found (needed for ${ITEM})`,
        hints: [ITEM_HINT],
    },
    {
        name: "§3 vault not found",
        text: "\"Invalid Vault\" isn't a vault in this account. Specify the vault with its ID or name.",
        what: ITEM,
        kind: "vault-not-found",
        message: `1Password vault "Invalid Vault" not found (needed for ${ITEM})`,
        hints: [VAULT_HINT],
    },
    {
        name: "§4 piped stdin that is not JSON",
        text: "unable to process line 1: invalid JSON in piped input",
        what: ITEM,
        command: "op item edit",
        kind: "failed",
        message: `op item edit could not read its standard input as an item template (needed for ${ITEM})`,
        hints: ["this is a bug in secrets: please report it"],
    },
    {
        name: "§4 template validation",
        text: "unable to process line 1: Validation: (validateVaultItem failed to Validate), Couldn't validate the item: \"[ItemValidator] has found 1 errors, 0 warnings: \\nErrors:{1. Password item requires ps value}\"",
        what: ITEM,
        command: "op item create",
        kind: "failed",
        message: `op item create failed (needed for ${ITEM})`,
        hints: [],
    },
    {
        name: "§6 whoami: account is not signed in",
        text: "account is not signed in",
        command: "op whoami",
        kind: "signed-out",
        message: `the 1Password CLI is not signed in (needed for ${READ})`,
        hints: [SIGN_IN_HINT],
    },
    {
        name: "§6 no account found for filter",
        text: "no account found for filter",
        kind: "signed-out",
        message: `the 1Password CLI is not signed in (needed for ${READ})`,
        hints: [SIGN_IN_HINT],
    },
    {
        name: "§6 service account not authenticated yet",
        text: "service account token set, but not authenticated yet",
        kind: "signed-out",
        message: `the 1Password CLI is not signed in (needed for ${READ})`,
        hints: [SIGN_IN_HINT],
    },
    {
        name: "§6 not signed in (other commands)",
        text: "You are not currently signed in. Please run `op signin --help` for instructions",
        what: ITEM,
        kind: "signed-out",
        message: `the 1Password CLI is not signed in (needed for ${ITEM})`,
        hints: [SIGN_IN_HINT],
    },
    {
        name: "§6 op signin output not to a terminal",
        text: "Output of 'op signin' is meant to be executed by your terminal. Please run 'eval $(op signin)'. You can use the '-f' flag to override this warning.",
        kind: "failed",
        message: `op read failed (needed for ${READ})`,
        hints: [],
    },
    {
        name: "§7 (400) bad request with exit status 4",
        text: "(400) Bad Request: The structure of request was invalid.",
        exitCode: 4,
        what: ITEM,
        command: "op item edit",
        kind: "failed",
        message: `op item edit failed (exit status 4) (needed for ${ITEM})`,
        hints: [],
    },
    {
        name: "§8 (409) conflict",
        text: "(409) Conflict: The item was modified by another request.",
        what: ITEM,
        command: "op item edit",
        kind: "conflict",
        message: `1Password refused a concurrent change (409 conflict) (needed for ${ITEM})`,
        hints: ["another change to the same vault was in progress; retry, and avoid parallel writes to one vault"],
    },
]

describe("classifyOpFailure: every op error text of op-cli.md", () => {
    it.each(cases)("$name", (c) => {
        const e = classifyOpFailure({
            exitCode: c.exitCode ?? 1,
            stderr: err(c.text),
            what: c.what ?? READ,
            command: c.command ?? "op read",
        })
        expect(e).toBeInstanceOf(OpError)
        expect(e.kind).toBe(c.kind)
        expect(e.code).toBe(ExitCode.Generic)
        expect(e.message).toBe(c.message)
        // op's own text is quoted last, except where the message already is op's text.
        expect(e.hints).toEqual(c.kind === "bad-reference" || c.kind === "ambiguous" ? c.hints : [...c.hints, said(c.text)])
    })

    it("ambiguous titles: the IDs from op's multi-line block become the hint", () => {
        const stderr =
            `${TS}More than one item matches "Delete Me". Try again and specify the item by its ID: \n` +
            "\t* for the item \"Delete Me\" in vault Test Data: vwyt5in4gempt67i7d2mpao6c4\n" +
            "\t* for the item \"Delete Me\" in vault Test Data: dmm2ybtxxjlxtv23puevxw5ydy\n"
        const e = classifyOpFailure({ exitCode: 1, stderr, what: ITEM, command: "op item get" })
        expect(e.kind).toBe("ambiguous")
        expect(e.message).toBe(`more than one 1Password item is titled "Delete Me" (needed for ${ITEM})`)
        expect(e.hints).toEqual(["use the item ID: vwyt5in4gempt67i7d2mpao6c4, dmm2ybtxxjlxtv23puevxw5ydy"])
    })

    it("parseOpStderr joins continuation lines to their [ERROR] line and skips other text", () => {
        expect(parseOpStderr(`noise\n${TS}first\n\t* a: 1\n${TS}second\n`)).toEqual(["first\n\t* a: 1", "second"])
        expect(parseOpStderr("")).toEqual([])
    })
})

describe("classifyOpFailure: process-level failures", () => {
    it("op not installed", () => {
        const e = classifyOpFailure({ notFound: true, stderr: "", what: READ, command: "op read", bin: "op" })
        expect(e.kind).toBe("not-installed")
        expect(e.message).toBe(`cannot run "op": the 1Password CLI is not installed or not on PATH (needed for ${READ})`)
        expect(e.hints).toEqual([INSTALL_HINT, "or set SECRETS_OP_BIN to the path of op"])
    })

    it("could not start for another reason", () => {
        const e = classifyOpFailure({ spawnError: "EACCES", stderr: "", what: READ, bin: "/opt/op" })
        expect(e.kind).toBe("failed")
        expect(e.message).toBe(`cannot run "/opt/op" (EACCES) (needed for ${READ})`)
    })

    it("timeout names the subcommand and the limit", () => {
        const e = classifyOpFailure({ timedOut: true, stderr: "", what: ITEM, command: "op item get", timeoutMs: 1500, signal: "SIGTERM" })
        expect(e.kind).toBe("timeout")
        expect(e.message).toBe(`op item get timed out after 1.5 s (needed for ${ITEM})`)
        expect(e.hints).toEqual(["op may be waiting for approval in the 1Password app, or for the network", TIMEOUT_HINT])
    })

    it("a Go panic with exit status 2 is a crash, and its trace is not quoted", () => {
        const stderr = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]\n\ngoroutine 1 [running]:\nmain.main()\n"
        const e = classifyOpFailure({ exitCode: 2, stderr, what: READ, command: "op read" })
        expect(e.kind).toBe("crashed")
        expect(e.message).toBe(`op read crashed (exit status 2) (needed for ${READ})`)
        expect(e.hints.join("\n")).not.toContain("goroutine")
    })

    it("killed by a signal", () => {
        const e = classifyOpFailure({ signal: "SIGKILL", stderr: "", what: READ, command: "op read" })
        expect(e.kind).toBe("crashed")
        expect(e.message).toBe(`op read was killed by SIGKILL (needed for ${READ})`)
    })

    it("exit status 0 with an error on stderr is a failure", () => {
        const e = classifyOpFailure({ exitCode: 0, stderr: err("something odd"), what: READ, command: "op read" })
        expect(e.kind).toBe("failed")
        expect(e.message).toBe(`op read printed an error although it exited with status 0 (needed for ${READ})`)
        expect(e.hints).toEqual([said("something odd")])
    })

    it("stderr without the [ERROR] prefix: its first line is quoted", () => {
        const e = classifyOpFailure({ exitCode: 1, stderr: "\nunknown flag: --revel\nUsage: ...\n", what: ITEM, command: "op item get" })
        expect(e.kind).toBe("failed")
        expect(e.hints).toEqual([said("unknown flag: --revel")])
    })

    it("op's text is not quoted when a value in play occurs in it", () => {
        const e = classifyOpFailure({ exitCode: 1, stderr: err("field value hunter2 rejected"), what: ITEM, command: "op item create", secrets: ["hunter2"] })
        expect(e.message).toBe(`op item create failed (needed for ${ITEM})`)
        expect(e.hints).toEqual([])
    })

    it("a long op line is cut to 300 characters", () => {
        const long = `x${"y".repeat(400)}`
        const e = classifyOpFailure({ exitCode: 1, stderr: err(long), what: READ })
        expect(e.hints).toEqual([said(`${long.slice(0, 300)}…`)])
    })

    it("429 without a retry time", () => {
        const e = classifyOpFailure({ exitCode: 1, stderr: err("(429) Too Many Requests"), what: READ })
        expect(e.kind).toBe("rate-limited")
        expect(e.hints[0]).toBe("the hourly request limit is used up; retry later")
    })
})
