import { describe, expect, it } from "vitest"
import { parseDeployManifest, parseManifestFile, type DeployManifest } from "../../../src/config/deploy-manifest.js"
import { ConfigError } from "../../../src/errors.js"

const repo = { source: ".sops.yaml", baseDir: "/repo", absoluteSourcesAllowed: false }
const standalone = { source: "/etc/secrets/manifest.json", baseDir: "/etc/secrets", absoluteSourcesAllowed: true }

function parse(deploy: unknown, options?: unknown): DeployManifest {
    return parseDeployManifest({ age_key_op: "op://x/y/z", deploy, ...(options !== undefined ? { deploy_options: options } : {}) }, repo, false)
}

function errorOf(deploy: unknown, options?: unknown): ConfigError {
    try {
        parse(deploy, options)
    } catch (e) {
        if (e instanceof ConfigError) return e
        throw e
    }
    throw new Error("no error")
}

const entry = (extra: Record<string, unknown>) => ({ web1: [{ name: "db-password", file: "secrets/app.yaml", ...extra }] })

describe("deploy manifest", () => {
    it("reads the issue's example with defaults filled in", () => {
        const m = parse({
            web1: [
                { name: "db-password", file: "secrets/hosts/web1/app.yaml", key: '["db"]["password"]', owner: "daemon", group: "daemon", mode: "0440", restart_units: ["app.service", "app.service"] },
                { name: "app.env", file: "secrets/hosts/web1/app.yaml", format: "dotenv", path: "/etc/app/app.env" },
                { name: "nginx.conf", template: "deploy/templates/nginx.conf.tmpl", reload_units: ["nginx.service"] },
                { name: "inline.conf", content: "x={{ a.yaml#[\"k\"] }}\n", owner: 33, group: "33" },
            ],
        })
        expect(m.keepGenerations).toBe(5)
        const [db, env, nginx, inline] = m.hosts.get("web1") ?? []
        expect(db).toMatchObject({ name: "db-password", mode: 0o440, owner: { kind: "name", name: "daemon" }, restartUnits: ["app.service"], neededForUsers: false })
        expect(db?.source).toEqual({ kind: "file", file: "secrets/hosts/web1/app.yaml", key: { text: '["db"]["password"]', path: ["db", "password"] } })
        expect(env).toMatchObject({ mode: 0o400, owner: { kind: "id", id: 0 }, group: { kind: "id", id: 0 }, path: "/etc/app/app.env", source: { format: "dotenv" } })
        expect(nginx?.source).toEqual({ kind: "template", template: "deploy/templates/nginx.conf.tmpl" })
        expect(inline).toMatchObject({ owner: { kind: "id", id: 33 }, group: { kind: "id", id: 33 }, source: { kind: "content" } })
    })

    it("names the host, the entry and the field in errors", () => {
        const e = errorOf({ web1: [{ name: "a", file: "a.yaml" }, { name: "b", file: "b.yaml" }, { name: "nginx.conf", template: "t", mode: 440 }] })
        expect(e.message).toBe('.sops.yaml: secrets.deploy.web1[2] ("nginx.conf").mode: expected an octal string such as "0440", got a number (quote it: mode: "0440")')
    })

    it.each([
        ["a name escaping the generation", { name: "../etc/passwd" }, ".name: must be a relative path"],
        ["an absolute name", { name: "/etc/passwd" }, ".name: must be a relative path"],
        ["a dot segment", { name: "a/./b" }, ".name: must be a relative path"],
        ["the generation's own manifest", { name: ".manifest.json" }, "are reserved"],
        ["the manifest's temp file", { name: ".manifest.json.tmp" }, "are reserved"],
        ["a setuid mode", { mode: "4755" }, ".mode: expected an octal string"],
        ["a mode above 0777", { mode: "0800" }, ".mode: expected an octal string"],
        ["a relative path:", { path: "etc/app" }, ".path: must be an absolute, normalized path"],
        ["a path: with ..", { path: "/etc/../root/x" }, ".path: must be an absolute, normalized path"],
        ["a path: inside /run/secrets", { path: "/run/secrets/other" }, ".path: must be outside"],
        ["a unit that is an option", { restart_units: ["--force"] }, ".restart_units[0]: expected a systemd unit name"],
        ["an unknown field", { onwer: "daemon" }, '.onwer: unknown field'],
        ["an invalid user name", { owner: "da emon" }, ".owner: expected a user name or a numeric id"],
        ["a negative uid", { owner: -1 }, ".owner: a numeric uid must be a whole number"],
        ["key with format", { key: '["a"]', format: "json" }, ".format: converts a whole file"],
        ["a bad key path", { key: "db.password" }, ".key: invalid tree path"],
        ["an absolute file in .sops.yaml", { file: "/etc/shadow" }, ".file: must be relative"],
        ["a file outside the repository", { file: "../../etc/shadow" }, ".file: must stay inside"],
        ["file and template", { template: "t" }, "needs exactly one of file, template or content, not file and template"],
        ["needed_for_users owned by a user", { needed_for_users: true, owner: "daemon" }, ".owner: must be root"],
    ])("refuses %s", (_what, extra, message) => {
        const e = errorOf(entry(extra))
        expect(e.message).toContain('.sops.yaml: secrets.deploy.web1[0] (')
        expect(e.message).toContain(message)
    })

    it("hints at the field a typo meant", () => {
        expect(errorOf(entry({ restartUnits: ["a.service"] })).hints[0]).toContain("did you mean restart_units?")
        expect(errorOf(entry({ onwer: "daemon" })).hints[0]).toContain("did you mean owner?")
        expect(errorOf(entry({ colour: "red" })).hints[0]).not.toContain("did you mean")
    })

    it("refuses duplicate names and a name inside another entry's file", () => {
        expect(errorOf({ web1: [{ name: "a", file: "x" }, { name: "a", file: "y" }] }).message).toContain('web1[1] ("a").name: "a" is already the name of entry [0]')
        expect(errorOf({ web1: [{ name: "a", file: "x" }, { name: "a/b", file: "y" }] }).message).toContain("is inside entry [0]")
    })

    it("checks deploy_options", () => {
        expect(parse({}, { keep_generations: 2 }).keepGenerations).toBe(2)
        expect(errorOf({}, { keep_generations: 1 }).message).toContain("secrets.deploy_options.keep_generations: expected a whole number from 2")
        expect(errorOf({}, { keep: 3 }).message).toContain("secrets.deploy_options.keep: unknown field")
    })

    it("reads a standalone manifest file, where absolute sources are allowed and other keys are not", () => {
        const m = parseManifestFile(JSON.stringify({ deploy: { web1: [{ name: "a", file: "/nix/store/abc-a.yaml" }] } }), standalone)
        expect(m.hosts.get("web1")?.[0]?.source).toEqual({ kind: "file", file: "/nix/store/abc-a.yaml" })
        expect(() => parseManifestFile("deploy: {}\nsecrets: {}\n", standalone)).toThrow(/manifest.json: unknown field "secrets"/)
        expect(() => parseManifestFile("{ deploy: [", standalone)).toThrow(/invalid YAML or JSON/)
    })
})
