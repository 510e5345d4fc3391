/**
 * nix/manifest.nix (issue 12 point 4) evaluated by Debian's nix-instantiate,
 * without nixpkgs: sops-nix-style options in, the deploy manifest out, and that
 * manifest accepted by the parser `secrets deploy --manifest` uses.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { parseManifestFile } from "../../../src/config/deploy-manifest.js"
import { tempDir } from "../../helpers/tmp.js"

const NIX_DIR = resolve(import.meta.dirname, "../../../nix")

function nixMissing(): string | undefined {
    const r = spawnSync("nix-instantiate", ["--version"], { stdio: "ignore" })
    return r.status === 0 ? undefined : "nix-instantiate is not installed (Debian package nix-bin)"
}

/** Skipped with a reason on a developer machine; in CI a skip would hide a broken setup. */
function skipReason(): string | undefined {
    const missing = nixMissing()
    if (missing !== undefined && process.env.CI) throw new Error(`CI is set but ${missing}`)
    return missing === undefined ? undefined : `skipped: ${missing}`
}

const skip = skipReason()
const title = (t: string) => (skip === undefined ? t : `${t} (${skip})`)

/** `--readonly-mode`: path values get their store path computed, nothing is written to /nix/store. */
function evalNix(dir: string, expression: string): { status: number | null; stdout: string; stderr: string } {
    const file = join(dir, "test.nix")
    writeFileSync(file, expression)
    const r = spawnSync("nix-instantiate", ["--readonly-mode", "--eval", "--strict", "--json", file], { cwd: dir, encoding: "utf8" })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function manifestOf(dir: string, args: string): unknown {
    const r = evalNix(dir, `import ${NIX_DIR}/manifest.nix ${args}`)
    if (r.status !== 0) throw new Error(`nix-instantiate failed: ${r.stderr}`)
    return JSON.parse(r.stdout)
}

function errorOf(dir: string, args: string): string {
    const r = evalNix(dir, `import ${NIX_DIR}/manifest.nix ${args}`)
    expect(r.status).not.toBe(0)
    return r.stderr
}

// The options as a sops-nix user writes them (sops.secrets.* renamed).
const SAMPLE = `{
  host = "web1";
  keepGenerations = 3;
  secrets = {
    db-password = {
      sopsFile = "/srv/repo/secrets/hosts/web1/app.yaml";
      key = "db/password";
      owner = "daemon";
      group = "daemon";
      mode = "0440";
      restartUnits = [ "app.service" ];
    };
    "app.env" = {
      sopsFile = "/srv/repo/secrets/hosts/web1/app.env";
      format = "dotenv";
      key = "app.env"; # sops-nix's default key (the name), ignored for dotenv as there
      path = "/etc/app/app.env";
      reloadUnits = [ "app.service" ];
    };
    "nested/token" = {
      sopsFile = "/srv/repo/secrets/hosts/web1/app.yaml";
      key = ''["tokens"][0]'';
      path = "/run/secrets/nested/token";
    };
    root-password = {
      sopsFile = "/srv/repo/secrets/hosts/web1/users.yaml";
      key = "root";
      neededForUsers = true;
    };
  };
  templates = {
    "app.conf" = {
      content = "password={{ /srv/repo/secrets/hosts/web1/app.yaml#[\\"db\\"][\\"password\\"] }}\\n";
      owner = "daemon";
      mode = "0400";
      restartUnits = [ "app.service" ];
    };
    "nginx.conf" = { file = "/srv/repo/deploy/templates/nginx.conf.tmpl"; path = "/etc/nginx/secrets.conf"; };
  };
}`

const EXPECTED = {
    deploy: {
        web1: [
            { name: "app.env", file: "/srv/repo/secrets/hosts/web1/app.env", format: "dotenv", owner: 0, group: 0, mode: "0400", path: "/etc/app/app.env", reload_units: ["app.service"] },
            { name: "db-password", file: "/srv/repo/secrets/hosts/web1/app.yaml", key: '["db"]["password"]', owner: "daemon", group: "daemon", mode: "0440", restart_units: ["app.service"] },
            { name: "nested/token", file: "/srv/repo/secrets/hosts/web1/app.yaml", key: '["tokens"][0]', owner: 0, group: 0, mode: "0400" },
            { name: "root-password", file: "/srv/repo/secrets/hosts/web1/users.yaml", key: '["root"]', owner: 0, group: 0, mode: "0400", needed_for_users: true },
            { name: "rendered/app.conf", content: 'password={{ /srv/repo/secrets/hosts/web1/app.yaml#["db"]["password"] }}\n', owner: "daemon", group: 0, mode: "0400", restart_units: ["app.service"] },
            { name: "rendered/nginx.conf", template: "/srv/repo/deploy/templates/nginx.conf.tmpl", owner: 0, group: 0, mode: "0400", path: "/etc/nginx/secrets.conf" },
        ],
    },
    deploy_options: { keep_generations: 3 },
}

describe.skipIf(skip !== undefined)(title("nix/manifest.nix, evaluated by nix-instantiate without nixpkgs"), () => {
    it("turns sops-nix-style options into the deploy manifest", () => {
        expect(manifestOf(tempDir(), SAMPLE)).toEqual(EXPECTED)
    })

    it("gives a manifest that secrets deploy --manifest accepts, with the meaning sops-nix gives the options", () => {
        const dir = tempDir()
        const file = join(dir, "manifest.json")
        writeFileSync(file, JSON.stringify(manifestOf(dir, SAMPLE)))
        const m = parseManifestFile(JSON.stringify(manifestOf(dir, SAMPLE)), { source: file, baseDir: dir, absoluteSourcesAllowed: true })
        expect(m.keepGenerations).toBe(3)
        const entries = m.hosts.get("web1") ?? []
        expect(entries.map((e) => e.name)).toEqual(["app.env", "db-password", "nested/token", "root-password", "rendered/app.conf", "rendered/nginx.conf"])
        const [env, db, token, rootPassword, appConf] = entries
        expect(env?.source).toEqual({ kind: "file", file: "/srv/repo/secrets/hosts/web1/app.env", format: "dotenv" })
        expect(db?.source).toEqual({ kind: "file", file: "/srv/repo/secrets/hosts/web1/app.yaml", key: { text: '["db"]["password"]', path: ["db", "password"] } })
        expect(db).toMatchObject({ owner: { kind: "name", name: "daemon" }, mode: 0o440, restartUnits: ["app.service"] })
        expect(token?.source).toMatchObject({ key: { path: ["tokens", 0] } })
        expect(token?.path).toBeUndefined()
        expect(rootPassword).toMatchObject({ neededForUsers: true, owner: { kind: "id", id: 0 }, group: { kind: "id", id: 0 } })
        expect(appConf?.source).toEqual({ kind: "content", content: 'password={{ /srv/repo/secrets/hosts/web1/app.yaml#["db"]["password"] }}\n' })
    })

    it("writes a sops-nix key with quotes in index syntax the parser reads back", () => {
        const dir = tempDir()
        const m = manifestOf(dir, `{ host = "h"; secrets.a = { sopsFile = "/r/a.yaml"; key = "it's/a \\"b\\"/c"; }; }`)
        const parsed = parseManifestFile(JSON.stringify(m), { source: "m.json", baseDir: dir, absoluteSourcesAllowed: true })
        expect(parsed.hosts.get("h")?.[0]?.source).toMatchObject({ key: { text: `["it's"]['a "b"']["c"]`, path: ["it's", 'a "b"', "c"] } })
    })

    it("copies a path value's file into the store, and the placeholder names that same store file relative to the store", () => {
        const dir = tempDir()
        writeFileSync(join(dir, "app.yaml"), "db:\n  password: ENC[...]\n")
        const r = evalNix(
            dir,
            `let lib = import ${NIX_DIR}/lib.nix; m = import ${NIX_DIR}/manifest.nix { host = "h"; secrets.a = { sopsFile = ./app.yaml; key = "db/password"; }; };
             in { file = (builtins.head m.deploy.h).file; placeholder = lib.placeholderFor "x" builtins.storeDir ./app.yaml "db/password"; }`,
        )
        expect(r.stderr).toBe("")
        const out = JSON.parse(r.stdout) as { file: string; placeholder: string }
        expect(out.file).toMatch(/^\/nix\/store\/[a-z0-9]{32}-app\.yaml$/)
        // Relative to the store, where the module writes the manifest: deploy refuses absolute placeholder paths.
        expect(out.placeholder).toBe(`{{ ${out.file.slice("/nix/store/".length)}#["db"]["password"] }}`)
    })

    it("refuses a placeholder for a whole file or for a file outside the manifest's directory", () => {
        const dir = tempDir()
        const r1 = evalNix(dir, `(import ${NIX_DIR}/lib.nix).placeholderFor "secrets.placeholder.a" "/nix/store" "/nix/store/x-a.yaml" ""`)
        expect(r1.stderr).toContain("secrets.placeholder.a: a placeholder names one value; this secret is a whole file")
        const r2 = evalNix(dir, `(import ${NIX_DIR}/lib.nix).placeholderFor "secrets.placeholder.a" "/nix/store" "/srv/a.yaml" "k"`)
        expect(r2.stderr).toContain("secrets.placeholder.a: a placeholder's file must be under /nix/store")
    })

    it("keepGenerations defaults to 5 and an empty configuration deploys nothing", () => {
        expect(manifestOf(tempDir(), `{ host = "web1"; }`)).toEqual({ deploy: { web1: [] }, deploy_options: { keep_generations: 5 } })
    })

    it("fails evaluation on what deploy would refuse or misread, naming the option", () => {
        const dir = tempDir()
        expect(errorOf(dir, `{ host = "h"; secrets.a = { sopsFile = "/x.yaml"; ownr = "daemon"; }; }`)).toContain('secrets.a: unknown option ["ownr"]')
        expect(errorOf(dir, `{ host = "h"; secrets.a = { key = "k"; }; }`)).toContain("secrets.a.sopsFile: required")
        expect(errorOf(dir, `{ host = "h"; secrets.a = { sopsFile = "/x.yaml"; neededForUsers = true; owner = "daemon"; }; }`)).toContain("secrets.a: neededForUsers secrets are owned by root:root")
        expect(errorOf(dir, `{ host = "h"; secrets.a = { sopsFile = "/x.yaml"; format = "toml"; }; }`)).toContain('secrets.a.format: expected one of ["yaml","json","binary","dotenv","ini"]')
        expect(errorOf(dir, `{ host = "h"; secrets.a = { sopsFile = "/x.yaml"; path = "/run/secrets/b"; }; }`)).toContain("secrets.a.path: /run/secrets/b is inside the trees deploy manages")
        expect(errorOf(dir, `{ host = "h"; secrets.a = { sopsFile = "/x.yaml"; key = "a\\"'b"; }; }`)).toContain("contains both")
        expect(errorOf(dir, `{ host = "h"; templates.t = { content = "x"; file = "/t"; }; }`)).toContain("templates.t: set content or file, not both")
        expect(errorOf(dir, `{ host = "h"; templates.t = { mode = "0400"; }; }`)).toContain("templates.t: set content (inline text) or file")
    })

    it("nix/module.nix and nix/lib.nix parse", () => {
        for (const f of ["module.nix", "lib.nix", "manifest.nix"]) {
            expect(() => execFileSync("nix-instantiate", ["--parse", join(NIX_DIR, f)], { stdio: "pipe" })).not.toThrow()
        }
    })
})
