/**
 * Re-sealing an opened file under its own data key keeps the exact ciphertext of
 * every value that did not change (sops' IV stash, sops-format.md §1), so setting one
 * value in a file real sops 3.13 wrote changes exactly three lines: that value, `mac`
 * and `lastmodified`.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { openEncrypted } from "../../src/engine/open.js"
import { seal } from "../../src/engine/seal.js"
import { parseIdentities } from "../../src/keys/identity-file.js"
import { loadStore } from "../../src/stores/index.js"
import { entry, list, map, str, type Branch, type MapItem, type Node } from "../../src/core/tree.js"

const ROOT = join(import.meta.dirname, "../fixtures/interop/isindir-sops-secrets-operator")
const FILE = join(ROOT, "HEAD/04-test-secrets-mac-only.yaml")

/** Replace the value at a path of mapping keys and list indices. */
function setAt(node: Node, path: (string | number)[], value: Node): Node {
    if (path.length === 0) return value
    const [head, ...rest] = path
    if (node.kind === "map") {
        return map(...node.items.map((i): MapItem => (i.kind === "entry" && i.key === head ? entry(i.key, setAt(i.value, rest, value)) : i)))
    }
    if (node.kind === "list") {
        let n = -1
        return list(...node.items.map((i) => (i.kind !== "comment" && ++n === head ? setAt(i, rest, value) : i)))
    }
    throw new Error("path does not exist")
}

function changedLines(a: string, b: string): string[] {
    const x = a.split("\n")
    const y = b.split("\n")
    expect(y).toHaveLength(x.length)
    return x.flatMap((line, i) => (line === y[i] ? [] : [line.trim().split(":")[0]!]))
}

describe("the IV stash", () => {
    const identities = parseIdentities(readFileSync(join(ROOT, "keys.txt"), "utf8"), "keys.txt")

    it("re-sealing an unchanged real sops 3.13 file changes only mac and lastmodified", async () => {
        const store = await loadStore("yaml")
        const input = readFileSync(FILE)
        const opened = await openEncrypted(input, store, identities)
        const out = seal(opened.branches, store, opened.metadata, opened.dataKey, opened.stash, new Date("2030-01-01T00:00:00Z"))
        expect(changedLines(input.toString(), Buffer.from(out).toString())).toEqual(["lastmodified", "mac"])
    })

    it("setting one value changes exactly that line, mac and lastmodified", async () => {
        const store = await loadStore("yaml")
        const input = readFileSync(FILE)
        const opened = await openEncrypted(input, store, identities)
        const path = ["spec", "secretTemplates", 0, "stringData", "token"]
        const branches: Branch[] = [setAt(opened.branches[0]!, path, str("a new token")) as Branch]
        const out = seal(branches, store, opened.metadata, opened.dataKey, opened.stash, new Date("2030-01-01T00:00:00Z"))
        const text = Buffer.from(out).toString()
        expect(changedLines(input.toString(), text)).toEqual(["token", "lastmodified", "mac"])
        expect(text).toContain(`lastmodified: "2030-01-01T00:00:00Z"`)

        const reopened = await openEncrypted(out, store, identities)
        expect(reopened.branches).toEqual(branches)
    })
})
