/** Which files `keys revoke` rotates and to whom: pure planning over metadata and a parsed config. */
import { describe, expect, it } from "vitest"
import { parseConfig } from "../../../src/config/load.js"
import type { KeyGroup } from "../../../src/core/metadata.js"
import { A, B, B2, H, R, RULES_CONFIG, group } from "./rules-fixture.js"
import type { FoundFile } from "../../../src/fleet/rekey-repo.js"
import { planRevoke } from "../../../src/fleet/revoke-plan.js"

const config = parseConfig(RULES_CONFIG, ".sops.yaml")

function found(shown: string, ...groups: KeyGroup[]): FoundFile {
    return {
        abs: `/repo/${shown}`,
        shown,
        store: {} as FoundFile["store"],
        doc: { branches: [], metadata: { kind: "map", items: [] } },
        metadata: { keyGroups: groups, shamirThreshold: 0, lastModified: "", mac: "m", rule: {}, macOnlyEncrypted: false, version: "3.13.2" },
    }
}

describe("planRevoke", () => {
    it("rotates the files listing the key and those with stowaway keys, each to its rule without the key", () => {
        const files = [
            found("secrets/shared/a.yaml", group(A, B, H, R)),
            found("secrets/shared/b.yaml", group(A, B, B2, H, R)),
            found("secrets/shared/c.yaml", group(A, H, R, "age1ci")),
            found("secrets/shared/d.yaml", group(A, B, H, R).slice(0, 2)),
            found("secrets/users/bob/t.yaml", group(B, R)),
            found("elsewhere/n.yaml", group(A, B)),
            found("elsewhere/m.yaml", group(A)),
        ]
        const plan = planRevoke(config, "/repo", files, B)
        expect(plan.map((t) => [t.file.shown, t.listsKey, t.groups, t.offRule, t.added])).toEqual([
            ["secrets/shared/a.yaml", true, [[A, H, R]], [], []],
            ["secrets/shared/b.yaml", true, [[A, H, R]], [B2], []],
            ["secrets/shared/c.yaml", false, [[A, H, R]], ["age1ci"], []],
            ["secrets/shared/d.yaml", true, [[A, H, R]], [], [H, R]],
            ["secrets/users/bob/t.yaml", true, [[R]], [], []],
            // No rule: only the key goes (groups undefined), nothing else is judged.
            ["elsewhere/n.yaml", true, undefined, [], []],
        ])
    })

    it("takes the threshold from the rule", () => {
        const plan = planRevoke(config, "/repo", [found("secrets/split/x.yaml", group(A, B), group(R))], B)
        expect(plan[0]?.groups).toEqual([[A], [R]])
        expect(plan[0]?.threshold).toBe(2)
    })
})
