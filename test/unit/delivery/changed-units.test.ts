/**
 * Which units a switch restarts (sops-nix's handleModifications, deploy-anchors.md
 * §1.7 and §5): by content hash only, nothing on a first install, each unit once,
 * restart wins over reload. Also the manifest's own round trip.
 */
import { describe, expect, it } from "vitest"

import { changedUnits, type GenerationManifest, type ManifestItem } from "../../../src/delivery/generations.js"
import { parseManifest, serializeManifest, sha256Hex } from "../../../src/delivery/generation-manifest.js"

function entry(name: string, content: string, more: Partial<ManifestItem> = {}): ManifestItem {
    return { name, sha256: sha256Hex(Buffer.from(content)), mode: 0o400, uid: 0, gid: 0, restartUnits: [], reloadUnits: [], ...more }
}
const gen = (generation: number, items: ManifestItem[]): GenerationManifest => ({ generation, created: "2026-12-06T00:00:00.000Z", items })

describe("changedUnits", () => {
    const app = { restartUnits: ["app.service"] }
    const nginx = { reloadUnits: ["nginx.service"] }

    it("asks for nothing on a first install", () => {
        expect(changedUnits(undefined, gen(1, [entry("a", "1", app)]))).toEqual({ restart: [], reload: [] })
    })

    it("counts content changes and new items, not mode or owner changes, nor removed items", () => {
        const before = gen(1, [entry("same", "x", { restartUnits: ["same.service"] }), entry("mode", "m", { restartUnits: ["mode.service"] }), entry("gone", "g", { restartUnits: ["gone.service"] })])
        const after = gen(2, [
            entry("same", "x", { restartUnits: ["same.service"] }),
            entry("mode", "m", { restartUnits: ["mode.service"], mode: 0o440, uid: 1 }),
            entry("changed", "new", nginx),
        ])
        expect(changedUnits(before, after)).toEqual({ restart: [], reload: ["nginx.service"] })
        const changed = gen(3, [entry("same", "y", { restartUnits: ["same.service"] })])
        expect(changedUnits(before, changed)).toEqual({ restart: ["same.service"], reload: [] })
    })

    it("names each unit once, and only restarts a unit that is both restarted and reloaded", () => {
        const before = gen(1, [entry("a", "1"), entry("b", "1"), entry("c", "1")])
        const after = gen(2, [
            entry("a", "2", { restartUnits: ["app.service", "db.service"], reloadUnits: ["web.service"] }),
            entry("b", "2", { restartUnits: ["app.service"], reloadUnits: ["app.service", "proxy.service"] }),
            entry("c", "2", { reloadUnits: ["web.service"] }),
        ])
        expect(changedUnits(before, after)).toEqual({ restart: ["app.service", "db.service"], reload: ["web.service", "proxy.service"] })
    })

    it("is symmetric for a rollback: going back restarts what differs", () => {
        const one = gen(1, [entry("a", "1", app), entry("b", "1", nginx)])
        const two = gen(2, [entry("a", "2", app), entry("b", "1", nginx)])
        expect(changedUnits(two, one)).toEqual({ restart: ["app.service"], reload: [] })
    })
})

describe("the generation manifest", () => {
    it("round-trips, with octal modes and no values, and rejects what it did not write", () => {
        const m = gen(7, [entry("a/b", "secret-value", { mode: 0o440, uid: 1, gid: 2, link: "/etc/x", restartUnits: ["app.service"] })])
        const text = Buffer.from(serializeManifest(m)).toString()
        expect(text).toContain('"mode": "0440"')
        expect(text).not.toContain("secret-value")
        expect(parseManifest(text)).toEqual(m)
        expect(parseManifest(text.slice(0, text.length / 2))).toBeUndefined()
        expect(parseManifest(text.replace('"0440"', '"440"'))).toBeUndefined()
        expect(parseManifest(JSON.stringify({ version: 2, generation: 7, created: "", items: [] }))).toBeUndefined()
    })
})
