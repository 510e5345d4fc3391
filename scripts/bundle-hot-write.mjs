// The writes' fast path (issue 14 target 4), called by scripts/bundle.mjs after the
// read fast path's bundle: plain `encrypt`, `updatekeys -y` and `rotate` run from
// dist/hot-write.bundle.cjs (src/cli/hot/write-run.ts), without commander. A bundle
// of its own rather than more entries in dist/hot.bundle.cjs: every module a bundle
// holds costs each start that loads it (esbuild defines its exports' getters at load,
// and the code cache is read and deserialised whole), and a decrypt never needs the
// config, planning and wrapping code a write does.
//
// Same rules as the read fast path's bundle: commander is a lazy stand-in (the
// command modules import it for their register functions), zod and the prompts stay
// in node_modules, and the build fails if commander, zod, the prompts, fleet/ or
// sync/ would run when the bundle loads. The code cache is made after a warm-up of
// the very commands the fast path takes, on YAML, JSON and dotenv files under a
// `.sops.yaml` rule, with a throwaway key (a code cache holds compiled code only).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { WARM_PLAINTEXTS, warmUpRunner, writeCommandCaches } from "./bundle-command-caches.mjs"

/**
 * Build, check, warm and cache dist/hot-write.bundle.cjs. `bundle` and `load` are
 * scripts/bundle.mjs's; `plugins` holds its lazy-commander plugin, `external` the
 * packages left to node_modules; `main` is the main bundle's, to make encrypted inputs.
 */
export async function bundleHotWrite({ root, bundle, load, main, plugins, external }) {
    const outFile = join(root, "dist/hot-write.bundle.cjs")
    const { source, eager } = await bundle(
        `export { hotWritePlan, runHotWrite } from "./dist/cli/hot/write-run.js"\nexport { hotIo } from "./dist/cli/hot/io.js"\n`,
        outFile,
        // No keepNames, as the read fast path's bundle (its defineProperty calls cost
        // start-up; no stack frame is ever printed here), and the read fast path's Io:
        // writeSync on fds 1 and 2 instead of building process.stdout and stderr.
        { plugins, external },
    )
    const banned = eager.filter((p) => /node_modules\/(commander|zod|@inquirer)\/|(^|\/)dist\/(fleet|sync)\/|(^|\/)dist\/cli\/program\.js$/.test(p))
    if (banned.length > 0) throw new Error(`bundle: the writes' fast-path bundle holds ${banned.join(", ")}`)

    const { script, exports: hot } = load(source, outFile)
    const dir = mkdtempSync(join(tmpdir(), "secrets-hot-write-"))
    try {
        const { generateX25519Identity, identityToRecipient } = await import("age-encryption")
        const identity = await generateX25519Identity()
        const recipient = await identityToRecipient(identity)
        const other = await identityToRecipient(await generateX25519Identity())
        const key = join(dir, "key.txt")
        writeFileSync(key, `${identity}\n`, { mode: 0o600 })
        // The key's holder is a recipient, so the warm-up prints no "you will not be
        // able to decrypt" warning; the second recipient is what updatekeys adds.
        writeFileSync(join(dir, ".sops.yaml"), `creation_rules:\n    - path_regex: \\.(yaml|json|env)$\n      age: ${recipient},${other}\n`)
        const run = warmUpRunner(
            { cwd: dir, env: { HOME: dir, SOPS_AGE_KEY_FILE: key, PATH: process.env.PATH ?? "/usr/bin:/bin" } },
            { plan: hot.hotWritePlan, execute: hot.runHotWrite, what: "the writes' fast path" },
        )
        for (const [name, text] of Object.entries(WARM_PLAINTEXTS)) {
            writeFileSync(join(dir, name), text)
            const enc = name.replace(".", ".enc.")
            writeFileSync(join(dir, enc), await run(["encrypt", name]))
            if ((await run(["decrypt", enc], main)).toString() !== text) throw new Error(`bundle: writes' warm-up ${name} does not round-trip`)
            // Encrypted to the key alone (by the main bundle): updatekeys gives it the rule's two.
            writeFileSync(join(dir, name.replace(".", ".one.")), await run(["encrypt", "--age", recipient, name], main))
        }
        // One code cache per command, each made in a fresh process that runs only that
        // command's warm-up, as scripts/bundle.mjs does for the read fast path: V8
        // deserialises a whole cache on every start, and encrypt never runs the open
        // path that updatekeys and rotate do. bin/secrets.cjs loads the command's own.
        const names = Object.keys(WARM_PLAINTEXTS)
        const groups = {
            encrypt: [...names.map((n) => ["encrypt", n]), ["encrypt", "--output", "out.yaml", "a.yaml"]],
            updatekeys: [["updatekeys", "-y", ...names.map((n) => n.replace(".", ".one."))]],
            rotate: [...names.map((n) => ["rotate", "-i", n.replace(".", ".enc.")]), ["rotate", "a.enc.yaml"]],
        }
        writeCommandCaches(outFile, { planFn: "hotWritePlan", runFn: "runHotWrite" }, groups, {
            cwd: dir,
            env: { HOME: dir, SOPS_AGE_KEY_FILE: key, PATH: process.env.PATH ?? "/usr/bin:/bin" },
            // The warm-up's info lines ("updated") are not the build's.
            stderr: "pipe",
        })
        // And the same commands in this process, for the whole-bundle cache below.
        for (const lines of Object.values(groups)) for (const argv of lines) await run(argv)
        await run(["encrypt", "-i", "a.yaml"])
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
    writeFileSync(`${outFile}.cache`, script.createCachedData())
}
