/**
 * Wrapping data keys for X25519 recipients must not hang, however often V8 collects
 * garbage. Node 20 deadlocks when it exports (as JWK) a key that generateKeyPairSync
 * made while a GC finalises that finished key-generation job: the export holds the
 * key's mutex while it allocates, the job's destructor takes the same mutex. The
 * wrap once exported its ephemeral public key that way, and a small `secrets encrypt`
 * hung about once in a hundred runs. A child with a 1 MiB young generation (a
 * scavenge every few hundred allocations) wraps 20,000 times (the old wrap hung within
 * that here, every time); the timeout only catches the hang.
 */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"

const wrapModule = pathToFileURL(join(import.meta.dirname, "../../../dist/keys/age-wrap-native.js")).href

const CHILD = `
const { x25519Stanza, newFileKey } = await import(process.argv[1])
const theirs = new Uint8Array(32).fill(7)
const junk = []
for (let i = 0; i < 20_000; i++) {
    x25519Stanza(theirs, newFileKey(), "age1test")
    junk.push({ i })
    if (junk.length > 500) junk.length = 0
}
process.stdout.write("done")
`

describe("x25519Stanza under GC pressure", () => {
    it("finishes (no deadlock between the key export and the key-generation job's finaliser)", () => {
        const r = spawnSync(process.execPath, ["--max-semi-space-size=1", "--input-type=module", "-e", CHILD, wrapModule], { encoding: "utf8", timeout: 90_000 })
        expect({ signal: r.signal, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ signal: null, status: 0, stdout: "done", stderr: "" })
    }, 120_000)
})
