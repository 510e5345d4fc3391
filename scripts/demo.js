#!/usr/bin/env node
// `npm run demo`: a tour of the repository's own demo fleet (.sops.yaml, secrets/)
// with the PUBLIC DEMO KEYS in examples/keys/, through the built `secrets` command,
// each step printed as the command a reader could type. Nothing is written.
//
// Every command runs with a clean environment (PATH, and HOME pointing nowhere):
// the reader's own identities (~/.config/sops/age/keys.txt, SOPS_AGE_KEY, …) must
// not take part, or the demo would show what *they* can read, not what the demo
// key can.
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const bin = fileURLToPath(new URL("../bin/secrets.cjs", import.meta.url))
const out = (s) => process.stdout.write(s)

/** Run `secrets ARGS` from the repository root; print the command, its output and a non-zero status. */
function secrets(args, keyFile) {
    // No audit log either: the demo writes nothing.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", SECRETS_AUDIT_LOG: "off" }
    if (keyFile !== undefined) env.SOPS_AGE_KEY_FILE = keyFile
    out(`\n$ ${keyFile !== undefined ? `SOPS_AGE_KEY_FILE=${keyFile} ` : ""}secrets ${args.join(" ")}\n`)
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env, encoding: "utf8" })
    if (r.error !== undefined) throw r.error
    out(r.stdout)
    // Only the first line of an error: the hints list where identities were looked for.
    if (r.status !== 0) out(`${r.stderr.split("\n")[0]}\n(exit ${r.status})\n`)
    return r.status
}

out("# The demo fleet of this repository: the keys in examples/keys/ are PUBLIC DEMO KEYS.\n")
out("\n$ cat secrets/shared/app.yaml      # as it sits in git: key names in clear, values encrypted\n")
out(readFileSync(new URL("../secrets/shared/app.yaml", import.meta.url), "utf8"))

// The host web1 reads the shared files...
const opened = secrets(["decrypt", "secrets/shared/app.yaml"], "examples/keys/web1.txt")
// ...but not a user's own files: sops's exit 128, no identity opens it.
const refused = secrets(["decrypt", "secrets/users/alice/tokens.yaml"], "examples/keys/web1.txt")
// Who can read what is in the files' metadata, in clear: no key needed.
const access = secrets(["access"])

if (opened !== 0 || refused !== 128 || access !== 0) {
    process.stderr.write("demo: a step did not do what it shows (is dist/ built? run npm run build)\n")
    process.exit(1)
}
