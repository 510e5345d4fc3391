// One V8 code cache per fast-path command (issue 14 target 2), shared by the read
// fast path (scripts/bundle.mjs) and the writes' (scripts/bundle-hot-write.mjs):
// V8 deserialises a whole cache on every start, and a cache of every command is
// ~40% larger than each command's own (~2 ms of CPU a start). Each cache is made in
// a fresh process that runs only that command's warm-up, so it holds that command's
// compiled code; any cache of the same text is accepted, so code outside the
// warm-up is only compiled lazily. bin/secrets.cjs loads `<bundle>.<group>.cache`.
import { execFileSync } from "node:child_process"

/**
 * For each group of command lines, load `bundleFile` in a fresh Node, run each line
 * through its exports `planFn` and `runFn` (with the fast path's `hotIo()`), fail on
 * a non-zero exit, and save the code cache as `${bundleFile}.${group}.cache`.
 * `stderr`: "inherit" to show the warm-up's messages, "pipe" to keep them (a
 * failure's stderr is in the error execFileSync throws).
 */
export function writeCommandCaches(bundleFile, { planFn, runFn }, groups, { cwd, env, stderr }) {
    const warm = `const { readFileSync, writeFileSync } = require("node:fs"), { Script } = require("node:vm"), { createRequire } = require("node:module")
const [file, out, lines] = process.argv.slice(1)
const script = new Script(readFileSync(file, "latin1"), { filename: file })
const m = { exports: {} }
script.runInThisContext()(m.exports, createRequire(file), m, file, require("node:path").dirname(file) + "/")
;(async () => {
    for (const argv of JSON.parse(lines)) {
        const code = await m.exports[${JSON.stringify(runFn)}](m.exports[${JSON.stringify(planFn)}](argv), m.exports.hotIo(), argv)
        if (code !== 0) throw new Error("bundle: per-command warm-up \`secrets " + argv.join(" ") + "\` exited " + code)
    }
    writeFileSync(out, script.createCachedData())
})()
`
    for (const [group, lines] of Object.entries(groups)) {
        execFileSync(process.execPath, ["-e", warm, bundleFile, `${bundleFile}.${group}.cache`, JSON.stringify(lines)], {
            cwd,
            env,
            stdio: ["ignore", "ignore", stderr],
        })
    }
}

/** The plaintexts both fast paths' warm-ups encrypt and open: one per structured format they cover. */
export const WARM_PLAINTEXTS = {
    "a.yaml": "db:\n    user: admin\n    password: p\n    port: 5432\nlist:\n    - 1.5\n    - true\n",
    "a.json": '{\n\t"db": {\n\t\t"user": "admin",\n\t\t"port": 5432\n\t}\n}\n',
    "a.env": "USER=admin\nPASSWORD=p\n",
}

/**
 * A warm-up runner in this process: `run(argv)` runs `secrets ARGV` through the fast
 * path's `plan` and `execute` exports (which must take it: `what` names the fast
 * path in the error), `run(argv, other)` through `other(argv, io)` instead (the main
 * bundle's `main`; the main bundle's own warm-up passes no fast path); stdout is
 * returned, stderr dropped, and a non-zero exit fails the build.
 */
export function warmUpRunner({ cwd, env }, { plan, execute, what } = {}) {
    return async (argv, other) => {
        const chunks = []
        const io = {
            cwd,
            env,
            stdin: process.stdin,
            stdout: { write: (c) => void chunks.push(Buffer.from(c)), isTTY: false },
            stderr: { write: () => true, isTTY: false },
            now: () => new Date("2026-01-01T00:00:00Z"),
        }
        let code
        if (other !== undefined) code = await other(argv, io)
        else {
            const p = plan?.(argv)
            if (p === undefined) throw new Error(`bundle: ${what ?? "no fast path"} does not take \`secrets ${argv.join(" ")}\``)
            code = await execute(p, io, argv)
        }
        if (code !== 0) throw new Error(`bundle: warm-up \`secrets ${argv.join(" ")}\` exited ${code}`)
        return Buffer.concat(chunks)
    }
}
