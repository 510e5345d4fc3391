import { describe, expect, it } from "vitest"
import { accessReport, renderAccess } from "../../../src/cli/commands/access.js"
import type { InventoryEntry } from "../../../src/fleet/inventory.js"
import type { NamedKey } from "../../../src/config/named-keys.js"

const key = (anchor: string, kind: NamedKey["kind"], name: string, recipient: string): NamedKey => ({ anchor, kind, name, recipient })

function entry(path: string, recipients: string[], expected: string[] | undefined, inStep: boolean): InventoryEntry {
    return { abs: `/r/${path}`, path, format: "yaml", encrypted: true, recipients, ...(expected ? { expected } : {}), inStep, lastModified: "" }
}

describe("accessReport", () => {
    it("a host and a user with the same name are told apart by their anchors; plaintext entries left out", () => {
        const named = [key("host_web1", "host", "web1", "age1host"), key("user_web1", "user", "web1", "age1user"), key("recovery", "recovery", "recovery", "age1rec")]
        const plain: InventoryEntry = { abs: "/r/p", path: "secrets/p.env", format: "dotenv", encrypted: false, recipients: [], inStep: false, lastModified: "" }
        const r = accessReport(named, [entry("secrets/a.yaml", ["age1user", "age1rec"], ["age1user", "age1rec"], true), plain])
        expect(r.keys.map((k) => k.name)).toEqual(["host_web1", "user_web1", "recovery"])
        expect(r.files).toEqual([{ path: "secrets/a.yaml", recipients: ["user_web1", "recovery"], expected: ["user_web1", "recovery"], inStep: true }])
    })

    it("a file no rule matches is flagged as such, unnamed recipients get columns in order of appearance", () => {
        const r = accessReport([key("user_alice", "user", "alice", "age1alice")], [entry("x.yaml", ["age1zzzzzzzzzzzzzzzz", "age1alice"], undefined, false)])
        expect(r.keys).toEqual([
            { name: "alice", kind: "user", recipient: "age1alice" },
            { name: "age1zzzzzzzz", kind: "unnamed", recipient: "age1zzzzzzzzzzzzzzzz" },
        ])
        expect(renderAccess(r)).toBe(
            [
                "FILE    alice  age1zzzzzzzz",
                "x.yaml  +      +             ! no rule",
                "",
                "x can read   . cannot read   + can read, not in its rule   - in its rule, cannot read",
                "",
            ].join("\n"),
        )
    })

    it("no encrypted files: one line saying so", () => {
        expect(renderAccess(accessReport([], []))).toBe("no encrypted files under the config's directory\n")
    })
})
