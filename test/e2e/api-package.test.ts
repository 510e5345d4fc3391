/**
 * The Node API as a user gets it (issue 13 §7 and its Tests line): `npm pack` of
 * this checkout, unpacked into a temp project's node_modules, used from plain
 * `node` scripts, ES module and CommonJS, and type-checked from .mts and .cts files.
 *
 * Dependencies: the tarball is unpacked as npm would install it, and its direct
 * dependencies (the `dependencies` of the packed package.json, nothing else) are
 * symlinked from this checkout's node_modules. `npm install` of the tarball would
 * fetch them from the registry (npm's cache is empty here and --offline fails),
 * making the test slow and dependent on the network; with the links it needs
 * none, and a dependency missing from package.json still fails it (Node resolves
 * a package's own imports from its real path, so only the direct links matter).
 * `npm pack --ignore-scripts`: the test setup has just built dist/ (prepare
 * would build it again).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runProcess } from "../helpers/process.js"

const ROOT = join(import.meta.dirname, "../..")
const DEMO_PASSWORD = "demo-db-password"

describe("the secrets-cli package from npm pack", () => {
    let base: string
    let project: string
    let packed: string[]
    const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: project, SOPS_AGE_KEY_FILE: join(project, "web1.txt") })
    const node = (args: string[], extra: Record<string, string> = {}) => runProcess(process.execPath, args, { cwd: project, env: { ...env(), ...extra }, timeout: 60_000 })

    beforeAll(async () => {
        base = mkdtempSync(join(tmpdir(), "secrets-api-pack-"))
        project = join(base, "project")
        const pack = await runProcess("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", base], {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: base, npm_config_update_notifier: "false" },
            timeout: 60_000,
        })
        expect(pack.status, pack.stderr).toBe(0)
        const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[]
        packed = info!.files.map((f) => f.path)
        const installed = join(project, "node_modules/secrets-cli")
        mkdirSync(installed, { recursive: true })
        const untar = await runProcess("tar", ["-xzf", join(base, info!.filename), "--strip-components=1", "-C", installed], { cwd: base, env: env(), timeout: 60_000 })
        expect(untar.status, untar.stderr).toBe(0)
        const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { dependencies: Record<string, string> }
        for (const dep of Object.keys(manifest.dependencies)) {
            const link = join(project, "node_modules", dep)
            mkdirSync(dirname(link), { recursive: true })
            symlinkSync(join(ROOT, "node_modules", dep), link)
        }
        writeFileSync(join(project, "package.json"), `{ "name": "app", "private": true }\n`)
        // The demo fleet's shared file and web1's public demo key; the examples as shipped.
        mkdirSync(join(project, "secrets/shared"), { recursive: true })
        copyFileSync(join(ROOT, "secrets/shared/app.yaml"), join(project, "secrets/shared/app.yaml"))
        copyFileSync(join(ROOT, "examples/keys/web1.txt"), join(project, "web1.txt"))
        for (const f of ["app.mjs", "app.cjs"]) copyFileSync(join(ROOT, "examples/api", f), join(project, f))
    }, 120_000)
    afterAll(() => rmSync(base, { recursive: true, force: true }))

    it("packs the API's entry points, bundle and declarations beside the bin", () => {
        for (const f of ["bin/secrets.cjs", "dist/api/index.js", "dist/api/index.cjs", "dist/api/index.d.ts", "dist/api/index.d.cts", "dist/api/options.d.ts", "dist/api/load.d.cts", "dist/errors.d.ts", "dist/errors.d.cts"]) {
            expect(packed, f).toContain(f)
        }
    })

    it.each(["app.mjs", "app.cjs"])("runs examples/api/%s with the package's load() and get()", async (script) => {
        const r = await node([script])
        expect([r.status, r.stderr]).toEqual([0, ""])
        expect(r.stdout).toBe("loaded: api_token database__host database__password database__port database__user\ndatabase: app@db.internal:5432\npassword: 16 characters\n")
    })

    it.each(["app.mjs", "app.cjs"])("%s gets the CLI's exit code 128 and message when no key opens the file, and no value", async (script) => {
        const r = await node([script], { SOPS_AGE_KEY_FILE: join(project, "missing.txt") })
        expect(r.status).toBe(128)
        // The identity lookup's warning comes first, on stderr as the CLI prints it (no onWarning given).
        expect(r.stderr).toMatch(/^secrets: warning: SOPS_AGE_KEY_FILE names ".*missing.txt", which does not exist\n/)
        expect(r.stderr).toMatch(/^app: cannot load secrets: "secrets\/shared\/app.yaml": could not recover the data key/m)
        expect(r.stderr + r.stdout).not.toContain(DEMO_PASSWORD)
    })

    it("an ES module importing the package loads no module of the CLI", async () => {
        // A module hook records every module Node loads, in its own thread, to a file.
        writeFileSync(join(project, "hooks.mjs"), `import { appendFileSync } from "node:fs"\nexport async function load(url, context, next) {\n    appendFileSync(process.env.LOADED_LOG, url + "\\n")\n    return next(url, context)\n}\n`)
        writeFileSync(join(project, "register.mjs"), `import { register } from "node:module"\nregister("./hooks.mjs", import.meta.url)\n`)
        writeFileSync(join(project, "esm-check.mjs"), `import { load } from "secrets-cli"\nconst v = await load({ files: "secrets/shared/app.yaml", flatten: true })\nconsole.log(Object.keys(v).length)\n`)
        const log = join(base, "loaded.txt")
        writeFileSync(log, "")
        const r = await node(["--import", "./register.mjs", "esm-check.mjs"], { LOADED_LOG: log })
        expect([r.status, r.stderr, r.stdout]).toEqual([0, "", "5\n"])
        const loaded = readFileSync(log, "utf8").split("\n").filter((l) => l !== "")
        // Not vacuous: the hook saw the API entry and the file services it opened the file with.
        expect(loaded).toContain(`file://${project}/node_modules/secrets-cli/dist/api/index.js`)
        expect(loaded.some((u) => u.includes("/secrets-cli/dist/files/open-file.js"))).toBe(true)
        expect(loaded.filter((u) => u.includes("/dist/cli/") || u.includes("/node_modules/commander/"))).toEqual([])
    })

    it("CommonJS require() loads the one API bundle, not the CLI", async () => {
        writeFileSync(
            join(project, "cjs-check.cjs"),
            `const { load } = require("secrets-cli")\nload({ files: "secrets/shared/app.yaml", flatten: true }).then((v) => {\n    console.log(Object.keys(v).length)\n    console.log(JSON.stringify(Object.keys(require.cache)))\n})\n`,
        )
        const r = await node(["cjs-check.cjs"])
        expect([r.status, r.stderr]).toEqual([0, ""])
        const [count, cache] = r.stdout.trim().split("\n")
        expect(count).toBe("5")
        expect(JSON.parse(cache!)).toEqual([join(project, "cjs-check.cjs"), join(project, "node_modules/secrets-cli/dist/api/index.cjs")])
    })

    it("the declarations type-check from .mts and .cts consumers", async () => {
        const use = (how: string) => `${how}\nconst values: Promise<Record<string, string>> = load({ files: ["a.yaml"], into: {}, flatten: true, onWarning: (line: string) => void line })\nconst one: Promise<string> = get("a.yaml", '["db"]["password"]', { cwd: "." })\nconst byProfile: Promise<Record<string, string>> = load({ profile: "dev" })\n// @ts-expect-error: a profile is a name\nvoid load({ profile: 1 })\nconst isError = (e: unknown): number | undefined => (e instanceof SecretsError ? e.code : undefined)\nvoid [values, one, byProfile, isError, ExitCode.CouldNotRetrieveKey]\n`
        writeFileSync(join(project, "consumer.mts"), use(`import { ExitCode, get, load, SecretsError } from "secrets-cli"`))
        writeFileSync(join(project, "consumer.cts"), use(`import { ExitCode, get, load, SecretsError } from "secrets-cli"`))
        // skipLibCheck off: the shipped declarations themselves are checked too.
        writeFileSync(
            join(project, "tsconfig.json"),
            JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "ES2022", lib: ["ES2022"], types: [], strict: true, noEmit: true, skipLibCheck: false }, files: ["consumer.mts", "consumer.cts"] }),
        )
        const r = await node([join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"])
        expect([r.status, r.stdout + r.stderr]).toEqual([0, ""])
    })
})
