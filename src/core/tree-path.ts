/**
 * Index paths such as `["db"]["hosts"][0]`, used by `--extract`, `set` and `unset`
 * (sops-format.md §10): `["key"]` or `['key']` name a mapping key (the quotes are
 * stripped, nothing is unescaped, as in sops), `[N]` a list index.
 */
import { ExitCode, SecretsError } from "../errors.js"
import { entry, list, map, type Branch, type ListItem, type MapItem, type Node } from "./tree.js"

export type PathStep = string | number

/**
 * As deep as the stores let a file be nested (500 levels): `set` builds the
 * mappings a path names, and a path of thousands of steps made a tree the YAML
 * emitter recursed into until the stack ran out (found by npm run soak).
 */
const MAX_PATH_STEPS = 500

export function parseTreePath(text: string): PathStep[] {
    const steps: PathStep[] = []
    let rest = text.trim()
    if (rest === "") throw badPath("the path is empty")
    while (rest !== "") {
        const m = /^\[\s*(?:"([^"]*)"|'([^']*)'|(\d+))\s*\]/.exec(rest)
        if (!m) throw badPath(`expected ["key"] or [index] at "${rest.slice(0, 20)}"`)
        if (m[3] !== undefined) steps.push(Number.parseInt(m[3], 10))
        else steps.push(m[1] ?? m[2] ?? "")
        rest = rest.slice(m[0].length)
        if (steps.length > MAX_PATH_STEPS) throw badPath(`more than ${MAX_PATH_STEPS} steps`)
    }
    return steps
}

function badPath(why: string): SecretsError {
    return new SecretsError(ExitCode.InvalidTreePathFormat, `invalid tree path: ${why}`, [
        `write paths like '["database"]["password"]' or '["hosts"][0]'`,
    ])
}

/** The node at `path`, or undefined when some step does not exist. */
export function getAt(root: Node, path: readonly PathStep[]): Node | undefined {
    let node: Node | undefined = root
    for (const step of path) {
        if (node === undefined) return undefined
        node = child(node, step)
    }
    return node
}

function child(node: Node, step: PathStep): Node | undefined {
    if (typeof step === "string") {
        if (node.kind !== "map") return undefined
        for (const item of node.items) if (item.kind === "entry" && item.key === step) return item.value
        return undefined
    }
    if (node.kind !== "list") return undefined
    return node.items.filter((i): i is Node => i.kind !== "comment")[step]
}

/**
 * A copy of `root` with `value` at `path`, creating missing mappings on the way
 * (sops #173 asks for this; sops creates missing components too). A list index at
 * or past the end appends one item, as sops' set() does for `position >= len`
 * (sops.go): `["hosts"][5]` on a two-item list adds a third.
 */
export function setAt(root: Branch, path: readonly PathStep[], value: Node): Branch {
    if (path.length === 0) throw badPath("cannot replace the whole document")
    const out = setIn(root, path, value, 0)
    if (out.kind !== "map") throw badPath("the document must stay a mapping")
    return out
}

function setIn(node: Node | undefined, path: readonly PathStep[], value: Node, depth: number): Node {
    if (depth === path.length) return value
    const step = path[depth]!
    if (typeof step === "string") {
        const m = node?.kind === "map" ? node : map()
        if (node !== undefined && node.kind !== "map") throw notA("mapping", path, depth)
        let found = false
        const items = m.items.map((item): MapItem => {
            if (item.kind === "entry" && item.key === step && !found) {
                found = true
                return entry(step, setIn(item.value, path, value, depth + 1))
            }
            return item
        })
        if (!found) items.push(entry(step, setIn(undefined, path, value, depth + 1)))
        return map(...items)
    }
    if (node !== undefined && node.kind !== "list") throw notA("list", path, depth)
    const l = node ?? list()
    let n = -1
    let found = false
    const items = l.items.map((item): ListItem => {
        if (item.kind === "comment") return item
        n++
        if (n !== step) return item
        found = true
        return setIn(item, path, value, depth + 1)
    })
    if (!found) items.push(setIn(undefined, path, value, depth + 1))
    return list(...items)
}

/** A copy of `root` without the item at `path`, or undefined when there is nothing there. */
export function unsetAt(root: Branch, path: readonly PathStep[]): Branch | undefined {
    if (path.length === 0) throw badPath("cannot remove the whole document")
    const out = unsetIn(root, path, 0)
    return out === undefined ? undefined : (out as Branch)
}

function unsetIn(node: Node, path: readonly PathStep[], depth: number): Node | undefined {
    const step = path[depth]!
    const last = depth === path.length - 1
    if (typeof step === "string") {
        if (node.kind !== "map") return undefined
        const i = node.items.findIndex((item) => item.kind === "entry" && item.key === step)
        if (i < 0) return undefined
        const item = node.items[i] as { kind: "entry"; key: string; value: Node }
        const items = [...node.items]
        if (last) {
            items.splice(i, 1)
        } else {
            const inner = unsetIn(item.value, path, depth + 1)
            if (inner === undefined) return undefined
            items[i] = entry(step, inner)
        }
        return map(...items)
    }
    if (node.kind !== "list") return undefined
    let n = -1
    const idx = node.items.findIndex((item) => item.kind !== "comment" && ++n === step)
    if (idx < 0) return undefined
    const items = [...node.items]
    if (last) {
        items.splice(idx, 1)
    } else {
        const inner = unsetIn(items[idx] as Node, path, depth + 1)
        if (inner === undefined) return undefined
        items[idx] = inner
    }
    return list(...items)
}

function notA(kind: string, path: readonly PathStep[], depth: number): SecretsError {
    return new SecretsError(ExitCode.InvalidSetFormat, `${describePath(path.slice(0, depth)) || "the document"} is not a ${kind}`)
}

/** The path written back in index syntax, for messages. */
export function describePath(path: readonly PathStep[]): string {
    return path.map((s) => (typeof s === "number" ? `[${s}]` : `["${s}"]`)).join("")
}
