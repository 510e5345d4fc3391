/**
 * Profiles in `.sops.yaml` (issue 13 point 3): how `secrets.profiles` is read,
 * and how the layout keeps each profile's rule, so that a developer's key opens
 * dev and only CI and hosts open prod, and adding a host or removing a user
 * carries over to the profiles without anyone editing a rule.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { addNamedKey, declareProfiles, removeNamedKey } from "../../../src/fleet/config-edit.js"
import { parseConfig } from "../../../src/config/load.js"
import { matchRule, planForRule } from "../../../src/config/match.js"
import { DEFAULT_ORDER, defaultReaders, parseLoaderOrder, parseProfiles } from "../../../src/config/profiles.js"
import { generateX25519Identity } from "../../../src/keys/age.js"
import { ConfigError } from "../../../src/errors.js"

let R: string[] = []
beforeAll(async () => {
    R = await Promise.all(Array.from({ length: 4 }, async () => (await generateX25519Identity()).recipient))
})
const r = (i: number) => R[i] ?? ""

function recipientsFor(text: string, file: string): string[] | undefined {
    const rule = matchRule(parseConfig(text, ".sops.yaml"), "/repo", `/repo/${file}`)
    return rule === undefined ? undefined : planForRule(rule).groups.flat()
}

/** alice and bob (developers), the CI runner and web1 (hosts), the recovery key. */
function fleet(): string {
    let t = addNamedKey("", { kind: "user", name: "alice", recipient: r(0) }).text
    t = addNamedKey(t, { kind: "user", name: "bob", recipient: r(1) }).text
    t = addNamedKey(t, { kind: "host", name: "ci", recipient: r(2) }).text
    return addNamedKey(t, { kind: "recovery", name: "", recipient: r(3) }).text
}

describe("parseProfiles", () => {
    it("reads a profile's fields, with secrets/<name> as the default files and env, files, op as the default order", () => {
        const p = parseProfiles({ profiles: { dev: { readers: "users" }, prod: { files: ["secrets/prod/", "config/ci.env"], op: { vault: "Prod", item: "app" }, order: ["op", "files"], flatten: true } } }, "x")
        expect(p.get("dev")).toEqual({ name: "dev", files: ["secrets/dev"], readers: "users", order: DEFAULT_ORDER, flatten: false })
        expect(p.get("prod")).toEqual({ name: "prod", files: ["secrets/prod", "config/ci.env"], op: { vault: "Prod", item: "app" }, order: ["op", "files"], flatten: true })
    })

    it.each([
        [{ profiles: { prod: { reader: "hosts" } } }, /secrets\.profiles\.prod\.reader: unknown field/],
        [{ profiles: { prod: { readers: "everyone" } } }, /expected users or hosts/],
        [{ profiles: { prod: { files: ["../other/secrets.env"] } } }, /outside the repository/],
        [{ profiles: { prod: { files: ["/etc/shadow"] } } }, /outside the repository/],
        [{ profiles: { prod: { files: ["secrets/prod/../../../x"] } } }, /outside the repository/],
        [{ profiles: { Prod: {} } }, /is not a profile name/],
        [{ profiles: { hosts: {} } }, /cannot be called "hosts"/],
        [{ profiles: { prod: { op: { vault: "-x", item: "app" } } } }, /a 1Password vault name/],
        [{ profiles: { prod: { order: ["files", "files"] } } }, /listed twice/],
        [{ profiles: { prod: { order: ["vault"] } } }, /is not a loader/],
        [{ profiles: ["dev"] }, /expected a mapping of profile names/],
    ])("refuses %j with a message naming the field", (secrets, message) => {
        expect(() => parseProfiles(secrets as Record<string, unknown>, ".sops.yaml")).toThrow(message)
        expect(() => parseProfiles(secrets as Record<string, unknown>, ".sops.yaml")).toThrow(ConfigError)
    })

    it("reads a loader order from a flag as a comma-separated list", () => {
        expect(parseLoaderOrder("files, env", "--order")).toEqual(["files", "env"])
        expect(() => parseLoaderOrder("", "--order")).toThrow(/expected a list of loaders/)
    })

    it("lets developers read only the profiles whose names say they are theirs", () => {
        expect(["dev", "development", "local", "test"].map(defaultReaders)).toEqual(["users", "users", "users", "users"])
        expect(["prod", "staging", "ci"].map(defaultReaders)).toEqual(["hosts", "hosts", "hosts"])
    })
})

describe("declareProfiles and the layout", () => {
    it("gives dev everyone's keys and prod only the hosts' (CI is a host) and the recovery key", () => {
        const out = declareProfiles(fleet(), [{ name: "dev", readers: "users" }, { name: "prod", readers: "hosts" }])
        expect(out.notes).toContain("declared profile dev (readers: users)")
        expect(out.notes).toContain("added rule ^secrets/prod/")
        expect(recipientsFor(out.text, "secrets/dev/app.env")).toEqual([r(0), r(1), r(2), r(3)])
        expect(recipientsFor(out.text, "secrets/prod/app.env")).toEqual([r(2), r(3)])
        expect(out.text).toMatch(/secrets:\n {2}profiles:\n {4}dev:\n {6}readers: users\n {4}prod:\n {6}readers: hosts\n/)
        // Profile rules come before the shared rule, after the users' own.
        expect(out.text.indexOf("^secrets/prod/")).toBeLessThan(out.text.indexOf("^secrets/shared/"))
        expect(out.text.indexOf("^secrets/users/bob/")).toBeLessThan(out.text.indexOf("^secrets/dev/"))
    })

    it("is idempotent and never changes the readers of a profile already declared", () => {
        const once = declareProfiles(fleet(), [{ name: "prod", readers: "hosts" }]).text
        expect(declareProfiles(once, [{ name: "prod", readers: "hosts" }]).changed).toBe(false)
        const asked = declareProfiles(once, [{ name: "prod", readers: "users" }])
        expect(asked.changed).toBe(false)
        expect(asked.notes).toEqual(["profile prod is already declared with readers: hosts; left as it is"])
        expect(recipientsFor(asked.text, "secrets/prod/x.env")).toEqual([r(2), r(3)])
    })

    it("adds a new host to prod and removes a departed user from dev, with no rule edited by hand", async () => {
        let t = declareProfiles(fleet(), [{ name: "dev", readers: "users" }, { name: "prod", readers: "hosts" }]).text
        const web1 = (await generateX25519Identity()).recipient
        t = addNamedKey(t, { kind: "host", name: "web1", recipient: web1 }).text
        expect(recipientsFor(t, "secrets/prod/app.env")).toEqual([r(2), web1, r(3)])
        t = removeNamedKey(t, "bob").text
        expect(recipientsFor(t, "secrets/dev/app.env")).toEqual([r(0), r(2), web1, r(3)])
        expect(recipientsFor(t, "secrets/prod/app.env")).not.toContain(r(1))
    })

    it("writes no rule for a profile nobody could read yet (sops refuses to encrypt to no one)", () => {
        const onlyAlice = addNamedKey("", { kind: "user", name: "alice", recipient: r(0) }).text
        const out = declareProfiles(onlyAlice, [{ name: "prod", readers: "hosts" }])
        expect(out.text).toContain("prod:")
        expect(out.text).not.toContain("^secrets/prod/")
        expect(() => recipientsFor(out.text, "secrets/prod/app.env")).toThrow(/no creation rule .* matches "secrets\/prod\/app.env"/)
    })
})
