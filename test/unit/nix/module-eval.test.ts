/**
 * nix/module.nix evaluated by nixpkgs' module system (issue 12 point 4). nixpkgs is
 * not installed here or in CI, so this runs only when NIXPKGS_LIB names a nixpkgs
 * `lib/` directory (e.g. a checkout of nix-community/nixpkgs.lib); the NixOS options
 * the module touches are stand-ins (test/fixtures/nix/eval-module.nix). What always
 * runs: manifest.nix and `nix-instantiate --parse` of the module (manifest-nix.test.ts).
 */
import { spawnSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { parseManifestFile } from "../../../src/config/deploy-manifest.js"
import { tempDir } from "../../helpers/tmp.js"

const ROOT = resolve(import.meta.dirname, "../../..")
const LIB = process.env.NIXPKGS_LIB
const skip =
    LIB === undefined || !existsSync(join(LIB, "modules.nix"))
        ? "skipped: set NIXPKGS_LIB to a nixpkgs lib/ directory to evaluate the module"
        : spawnSync("nix-instantiate", ["--version"]).status !== 0
          ? "skipped: nix-instantiate is not installed (Debian package nix-bin)"
          : undefined

interface Evaluated {
    manifest: unknown
    activationScripts: Record<string, { text?: string; deps?: string[]; supportsDryActivation?: boolean }>
    systemdServices: Record<string, { script: string; wantedBy: string[]; before?: string[]; serviceConfig: Record<string, unknown> }>
    placeholder: Record<string, string | null>
}

function evaluate(configuration: string): Evaluated {
    const dir = tempDir()
    writeFileSync(join(dir, "app.yaml"), "db:\n  password: ENC[...]\n")
    writeFileSync(join(dir, "configuration.nix"), configuration)
    const expr = `import ${ROOT}/test/fixtures/nix/eval-module.nix { libPath = ${LIB}; modulePath = ${ROOT}/nix/module.nix; configuration = ${dir}/configuration.nix; }`
    const r = spawnSync("nix-instantiate", ["--readonly-mode", "--eval", "--strict", "--json", "-E", expr], { encoding: "utf8" })
    if (r.status !== 0) throw new Error(`nix-instantiate failed: ${r.stderr}`)
    return JSON.parse(r.stdout) as Evaluated
}

const PACKAGE = `secrets.package = { type = "derivation"; name = "secrets"; outPath = "/nix/store/11111111111111111111111111111111-secrets"; };`

describe.skipIf(skip !== undefined)(`nix/module.nix under lib.evalModules${skip !== undefined ? ` (${skip})` : ""}`, () => {
    it("writes the manifest with sops-nix's defaults and runs deploy after users, the for-users part before them", () => {
        const e = evaluate(`{ ... }: {
            ${PACKAGE}
            networking.hostName = "web1";
            users.users.app.group = "appgroup";
            services.openssh.hostKeys = [ { type = "ed25519"; path = "/etc/ssh/ssh_host_ed25519_key"; } { type = "rsa"; path = "/etc/ssh/ssh_host_rsa_key"; } ];
            secrets.defaultSopsFile = ./app.yaml;
            secrets.secrets."db/password" = { owner = "app"; mode = "0440"; restartUnits = [ "app.service" ]; };
            secrets.secrets.root-hash = { key = "root"; neededForUsers = true; };
            secrets.templates."app.conf".content = "password=\${config.secrets.placeholder."db/password"}";
        }`.replace("{ ... }:", "{ config, ... }:"))
        const entries = (e.manifest as { deploy: { web1: { name: string; file: string }[] } }).deploy.web1
        const file = entries[0]?.file ?? ""
        expect(file).toMatch(/^\/nix\/store\/[a-z0-9]{32}-app\.yaml$/)
        // Placeholders are relative to the manifest's directory, the store (deploy refuses absolute ones).
        const storeName = file.slice("/nix/store/".length)
        // key defaults to the name, group to the owner's primary group, as in sops-nix.
        expect(e.manifest).toEqual({
            deploy: {
                web1: [
                    { name: "db/password", file, key: '["db"]["password"]', owner: "app", group: "appgroup", mode: "0440", restart_units: ["app.service"] },
                    { name: "root-hash", file, key: '["root"]', owner: 0, group: 0, mode: "0400", needed_for_users: true },
                    { name: "rendered/app.conf", content: `password={{ ${storeName}#["db"]["password"] }}`, owner: 0, group: 0, mode: "0400" },
                ],
            },
            deploy_options: { keep_generations: 5 },
        })
        expect(() => parseManifestFile(JSON.stringify(e.manifest), { source: "m.json", baseDir: "/nix/store", absoluteSourcesAllowed: true })).not.toThrow()
        const setup = e.activationScripts.setupSecrets
        expect(setup?.deps).toEqual(["specialfs", "users", "groups"])
        expect(setup?.supportsDryActivation).toBe(true)
        const command = "/bin/secrets deploy --manifest /nix/store/00000000000000000000000000000000-secrets-manifest.json --host web1 --no-block"
        expect(setup?.text).toContain(`${command} --identity /etc/ssh/ssh_host_ed25519_key`)
        expect(setup?.text).not.toContain("ssh_host_rsa_key")
        expect(e.activationScripts.setupSecretsForUsers?.deps).toEqual(["specialfs"])
        expect(e.activationScripts.setupSecretsForUsers?.text).toContain(`${command} --needed-for-users --identity /etc/ssh/ssh_host_ed25519_key`)
        expect(e.activationScripts.users?.deps).toEqual(["setupSecretsForUsers"])
        expect(e.placeholder).toEqual({ "db/password": `{{ ${storeName}#["db"]["password"] }}`, "root-hash": `{{ ${storeName}#["root"] }}` })
    })

    it("runs deploy from systemd units when asked (as with systemd-sysusers or userborn)", () => {
        const e = evaluate(`{ ... }: {
            ${PACKAGE}
            secrets.useSystemdActivation = true;
            secrets.identityPaths = [ "/var/lib/secrets/age.key" ];
            secrets.secrets.a = { sopsFile = "/srv/a.yaml"; key = ""; };
            secrets.secrets.u = { sopsFile = "/srv/a.yaml"; neededForUsers = true; };
        }`)
        expect(Object.keys(e.activationScripts)).toEqual([])
        const main = e.systemdServices["secrets-deploy"]
        expect(main?.serviceConfig).toEqual({ Type: "oneshot", RemainAfterExit: true })
        expect(main?.wantedBy).toEqual(["sysinit.target"])
        expect(main?.script).toContain("--host nixos --no-block --identity /var/lib/secrets/age.key")
        expect(e.systemdServices["secrets-deploy-for-users"]?.script).toContain("--host nixos --no-block --needed-for-users --identity /var/lib/secrets/age.key")
        expect(e.systemdServices["secrets-deploy-for-users"]?.before).toEqual(["systemd-sysusers.service", "userborn.service"])
        // A whole file has no placeholder, nor has a file outside the store: both throw when used.
        expect(e.placeholder).toEqual({ a: null, u: null })
    })
})
