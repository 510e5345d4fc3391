/**
 * A repo for the completion tests: real sops files from test/fixtures/interop (sops keeps
 * key names in clear, so no key is needed), a plaintext file that must not be
 * offered, a .sops.yaml with named keys, and `secrets` on PATH as a wrapper around
 * the built bin/secrets.cjs, as the completion scripts call it.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { BIN } from "../helpers/cli.js"
import { tempDir } from "../helpers/tmp.js"

export const ROOT = join(import.meta.dirname, "../..")
export const INTEROP = join(ROOT, "test/fixtures/interop")

export interface CompletionRepo {
    readonly dir: string
    readonly binDir: string
    /** PATH with the wrapper first. */
    readonly env: Record<string, string>
}

export function completionRepo(): CompletionRepo {
    const dir = tempDir()
    const binDir = join(dir, ".bin")
    mkdirSync(binDir)
    writeFileSync(join(binDir, "secrets"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    chmodSync(join(binDir, "secrets"), 0o755)
    copyFileSync(join(INTEROP, "getsops-sops/example.yaml"), join(dir, "secrets.yaml"))
    mkdirSync(join(dir, "deploy"))
    copyFileSync(join(INTEROP, "humphd-sops-age/HEAD/secret.enc.env"), join(dir, "deploy/app.enc.env"))
    copyFileSync(join(INTEROP, "getsops-sops/example.json"), join(dir, "deploy/app.json"))
    writeFileSync(join(dir, "plain.yaml"), "db:\n    password: not-a-sops-file\n")
    mkdirSync(join(dir, "node_modules/pkg"), { recursive: true })
    copyFileSync(join(INTEROP, "getsops-sops/example.yaml"), join(dir, "node_modules/pkg/skipped.yaml"))
    writeFileSync(
        join(dir, ".sops.yaml"),
        [
            "keys:",
            "  - &host_web1 age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw",
            "  - &user_alice age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssywqkrpyn0",
            "  - &recovery age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr",
            "creation_rules:",
            "  - age: *host_web1",
            "",
        ].join("\n"),
    )
    return { dir, binDir, env: { PATH: `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: dir } }
}

/** The files every `edit <TAB>` must offer in completionRepo(), sorted. */
export const ENCRYPTED = ["deploy/app.enc.env", "deploy/app.json", "secrets.yaml"]

/** Every key path of getsops-sops/example.yaml, in file order (what `set secrets.yaml <TAB>` offers). */
export const EXAMPLE_KEY_PATHS = [
    '["myapp1"]',
    '["app2"]',
    '["app2"]["db"]',
    '["app2"]["db"]["user"]',
    '["app2"]["db"]["password"]',
    '["app2"]["key"]',
    '["number"]',
    '["an_array"]',
    '["an_array"][0]',
    '["an_array"][1]',
    '["an_array"][2]',
    '["an_array"][3]',
    '["somebooleans"]',
    '["somebooleans"][0]',
    '["somebooleans"][1]',
    '["this"]',
    '["this"]["is"]',
    '["this"]["is"]["a"]',
    '["this"]["is"]["a"]["nested"]',
    '["this"]["is"]["a"]["nested"]["value"]',
    '["somelist_unencrypted"]',
    '["somelist_unencrypted"][0]',
    '["somelist_unencrypted"][1]',
    '["somelist_unencrypted"][2]',
    '["nested_unencrypted"]',
    '["nested_unencrypted"]["this"]',
    '["nested_unencrypted"]["this"]["is"]',
    '["nested_unencrypted"]["this"]["is"]["all"]',
]
