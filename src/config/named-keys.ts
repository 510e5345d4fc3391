/**
 * Named keys as sops-nix users write them: a top-level `keys:` list in .sops.yaml
 * whose items carry YAML anchors (`- &host_web1 age1…`), referenced by alias from
 * `creation_rules`. Real sops only sees the resolved recipients; the anchors give
 * `secrets` names for hosts, users and the recovery key.
 *
 * Kinds come from the anchor's prefix: `host_`, `user_`, `recovery` (alone or as a
 * prefix); anything else is "other" and keeps its full name.
 */
import { isScalar, isSeq, parseDocument } from "yaml"

export type KeyKind = "host" | "user" | "recovery" | "other"

export interface NamedKey {
    /** The name without its kind prefix: `web1` for `&host_web1`. */
    readonly name: string
    /** The anchor as written: `host_web1`. */
    readonly anchor: string
    readonly kind: KeyKind
    /** The recipient string (`age1…`, `age1pq1…`, `ssh-ed25519 …`). */
    readonly recipient: string
}

export function kindOfAnchor(anchor: string): { kind: KeyKind; name: string } {
    if (anchor.startsWith("host_")) return { kind: "host", name: anchor.slice(5) }
    if (anchor.startsWith("user_")) return { kind: "user", name: anchor.slice(5) }
    if (anchor === "recovery" || anchor.startsWith("recovery_")) return { kind: "recovery", name: anchor }
    return { kind: "other", name: anchor }
}

/** The anchored string items of the top-level `keys:` list, in file order. */
export function readNamedKeys(configText: string): NamedKey[] {
    const doc = parseDocument(configText)
    const keys = doc.get("keys", true)
    if (!isSeq(keys)) return []
    const out: NamedKey[] = []
    for (const item of keys.items) {
        if (!isScalar(item) || typeof item.value !== "string" || item.anchor === undefined) continue
        const { kind, name } = kindOfAnchor(item.anchor)
        out.push({ name, anchor: item.anchor, kind, recipient: item.value.trim() })
    }
    return out
}
