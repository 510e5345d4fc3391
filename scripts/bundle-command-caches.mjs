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
