/**
 * Encrypt or decrypt every selected leaf of a document and compute the MAC in the
 * same pass (sops-format.md §2, §4, §5; sops.go `walkBranch`, `Encrypt`, `Decrypt`).
 *
 * The walk is depth-first in file order. Each leaf's AAD is its mapping-key path
 * joined with ":" plus a trailing ":" (list indices are not part of it, so a
 * top-level comment has AAD ":"). Nulls are skipped entirely. Comments go through
 * the cipher (type `comment`) but never into the MAC. The comments stack that the
 * comment regex rules need is kept here, exactly as sops keeps it: one frame per
 * mapping or list, filled by comment items, cleared after each non-comment item.
 * Stacks hold the comment text as it is in the tree being walked (ciphertext when
 * decrypting), which is also what sops matches against.
 */
import { ExitCode, FormatError, IntegrityError, SecretsError } from "../errors.js"
import { decryptValue, encryptValue, IvStash, valueToText, type Plain } from "./cipher.js"
import { MacHasher } from "./mac.js"
import type { EncryptionRule } from "./metadata.js"
import { compilePolicy, type Policy } from "./policy.js"
import type { Branch, Comment, ListItem, MapItem, Mapping, Node, Scalar, Sequence } from "./tree.js"

/** What decides encryption and what the MAC covers, with the rule already compiled. */
export interface WalkOptions {
    readonly policy: Policy
    readonly macOnlyEncrypted: boolean
}

/** The same, straight from a file's metadata; the rule is compiled per walk. */
export interface CryptOptions {
    readonly rule: EncryptionRule
    readonly macOnlyEncrypted: boolean
}

function policyOf(opts: WalkOptions | CryptOptions): Policy {
    return "policy" in opts ? opts.policy : compilePolicy(opts.rule)
}

export interface EncryptResult {
    readonly branches: Branch[]
    /** The plaintext MAC: 128 uppercase hex chars, to be sealed with `sealMac`. */
    readonly mac: string
}

export interface DecryptResult {
    readonly branches: Branch[]
    /** The MAC recomputed over the decrypted values, to compare with `openMac`'s result. */
    readonly mac: string
    /** Every decrypted value's IV, for an edit that re-encrypts with the same data key. */
    readonly stash: IvStash
}

type Frame = string[]

// `aad` is aadFor(path), built one key at a time as the walk descends: joining
// the whole path again at every leaf showed in the profile of a 100k-value file.
interface LeafHandler {
    scalar(s: Exclude<Scalar, { kind: "null" }>, path: readonly string[], stack: readonly Frame[], aad: string): Scalar
    comment(c: Comment, path: readonly string[], stack: readonly Frame[], aad: string): Comment
}

/** The AAD of a leaf: sops' `strings.Join(path, ":") + ":"`, keys verbatim. */
export function aadFor(path: readonly string[]): string {
    return path.join(":") + ":"
}

/** A key path for messages, in `--extract` syntax. Keys are not secret; values are never shown. */
export function pathLabel(path: readonly string[]): string {
    return path.length === 0 ? "the top level" : path.map((k) => `[${JSON.stringify(k)}]`).join("")
}

function walkNode(node: Node, path: readonly string[], aad: string, stack: Frame[], h: LeafHandler): Node {
    switch (node.kind) {
        case "map":
            return walkMapping(node, path, aad, stack, h)
        case "list":
            return walkList(node, path, aad, stack, h)
        case "null":
            return node
        default:
            return h.scalar(node, path, stack, aad)
    }
}

function walkMapping(m: Mapping, path: readonly string[], aad: string, stack: Frame[], h: LeafHandler): Mapping {
    const frame: Frame = []
    stack.push(frame)
    const items: MapItem[] = []
    // aadFor([...path, key]) is this prefix + key + ":" (the root's AAD is ":" alone).
    const prefix = path.length === 0 ? "" : aad
    for (const item of m.items) {
        if (item.kind === "comment") {
            frame.push(item.text)
            items.push(h.comment(item, path, stack, aad))
            continue
        }
        items.push({ kind: "entry", key: item.key, value: walkNode(item.value, [...path, item.key], prefix + item.key + ":", stack, h) })
        frame.length = 0
    }
    stack.pop()
    return { kind: "map", items }
}

function walkList(l: Sequence, path: readonly string[], aad: string, stack: Frame[], h: LeafHandler): Sequence {
    const frame: Frame = []
    stack.push(frame)
    const items: ListItem[] = []
    for (const item of l.items) {
        if (item.kind === "comment") {
            frame.push(item.text)
            items.push(h.comment(item, path, stack, aad))
            continue
        }
        items.push(walkNode(item, path, aad, stack, h))
        frame.length = 0
    }
    stack.pop()
    return { kind: "list", items }
}

function walkAll(branches: readonly Branch[], h: LeafHandler): Branch[] {
    return branches.map((b) => walkMapping(b, [], aadFor([]), [], h))
}

function withComment(c: Comment, text: string): Comment {
    return c.inline === true ? { kind: "comment", text, inline: true } : { kind: "comment", text }
}

function atPath(e: unknown, path: readonly string[]): unknown {
    if (!(e instanceof SecretsError)) return e
    const message = `${e.message} at ${pathLabel(path)}`
    // A failed tag keeps its own code (25, as sops's DecryptTree gives any value
    // that does not decrypt); only the MAC check, after the walk, exits 51.
    if (e instanceof IntegrityError) return new IntegrityError(message, e.hints, e.code)
    return new FormatError(message, e.hints, ExitCode.ErrorDecryptingTree)
}

/**
 * Encrypt the selected leaves of `branches` with the data key and compute the MAC
 * over the plaintext. With a stash from `decryptBranches` under the same data key,
 * unchanged values keep their exact ENC strings.
 */
export function encryptBranches(
    branches: readonly Branch[],
    key: Uint8Array,
    opts: WalkOptions | CryptOptions,
    stash?: IvStash,
): EncryptResult {
    const policy = policyOf(opts)
    const mac = new MacHasher(opts.macOnlyEncrypted)
    const out = walkAll(branches, {
        scalar(s, path, stack, aad) {
            const selected = policy.shouldEncrypt(path, stack, false)
            if (!opts.macOnlyEncrypted || selected) mac.add(valueToText(s))
            if (!selected) return s
            return { kind: "str", value: encryptValue(s, key, aad, undefined, stash) }
        },
        comment(c, path, stack, aad) {
            if (!policy.shouldEncrypt(path, stack, true)) return c
            return withComment(c, encryptValue(c, key, aad, undefined, stash))
        },
    })
    return { branches: out, mac: mac.digest() }
}

/**
 * Decrypt the selected leaves of `branches` and compute the MAC over the result.
 * A selected leaf that is not a string is a FormatError (sops exit 25); a selected
 * comment that does not decrypt is kept as written (files from old sops versions
 * have clear comments).
 */
export function decryptBranches(
    branches: readonly Branch[],
    key: Uint8Array,
    opts: WalkOptions | CryptOptions,
): DecryptResult {
    const policy = policyOf(opts)
    const mac = new MacHasher(opts.macOnlyEncrypted)
    const stash = new IvStash()
    const out = walkAll(branches, {
        scalar(s, path, stack, aad) {
            const selected = policy.shouldEncrypt(path, stack, false)
            let v: Plain = s
            if (selected) {
                if (s.kind !== "str") {
                    throw new FormatError(
                        `expected encrypted value as string at ${pathLabel(path)}`,
                        [],
                        ExitCode.ErrorDecryptingTree,
                    )
                }
                try {
                    v = decryptValue(s.value, key, aad, stash)
                } catch (e) {
                    throw atPath(e, path)
                }
                if (v.kind === "comment") {
                    throw new FormatError(`value at ${pathLabel(path)} decrypts to a comment`, [], ExitCode.ErrorDecryptingTree)
                }
            }
            if (!opts.macOnlyEncrypted || selected) mac.add(valueToText(v))
            return v
        },
        comment(c, path, stack, aad) {
            if (!policy.shouldEncrypt(path, stack, true)) return c
            let v: Plain
            try {
                v = decryptValue(c.text, key, aad, stash)
            } catch {
                return c
            }
            if (v.kind === "comment" || v.kind === "str") return withComment(c, v.kind === "str" ? v.value : v.text)
            throw new FormatError(`comment at ${pathLabel(path)} decrypts to a ${v.kind}`, [], ExitCode.ErrorDecryptingTree)
        },
    })
    return { branches: out, mac: mac.digest(), stash }
}

/** The MAC of a plaintext document, without encrypting anything. */
export function computeMac(branches: readonly Branch[], opts: WalkOptions | CryptOptions): string {
    const policy = policyOf(opts)
    const mac = new MacHasher(opts.macOnlyEncrypted)
    walkAll(branches, {
        scalar(s, path, stack) {
            if (!opts.macOnlyEncrypted || policy.shouldEncrypt(path, stack, false)) mac.add(valueToText(s))
            return s
        },
        comment: (c) => c,
    })
    return mac.digest()
}
