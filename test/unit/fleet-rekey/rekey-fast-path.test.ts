/**
 * The fleet re-key's fast path for canonical YAML (src/fleet/rekey-yaml-fast.ts)
 * in a repo that mixes files it takes and files it must leave to the general
 * path: after `keys add-host`, every file is exactly what the general path writes
 * (the store's own emitter output for the tree the file holds), its values are
 * unchanged, and the new host opens it.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { readForRekey } from "../../../src/fleet/rekey-yaml-fast.js"
import { createJsonStore } from "../../../src/stores/json.js"
import { createYamlStore } from "../../../src/stores/yaml.js"
import { runInProcess } from "../../helpers/in-process.js"
import { HOSTS, configText, decryptWith, makeFleet, recipientsOf } from "./fleet-fixture.js"

const yaml = createYamlStore()
const valuesPart = (text: string): string => text.slice(0, text.lastIndexOf("\nsops:\n") + 1)

describe("fleet re-key fast path", () => {
    it("takes canonical YAML only: not comments, other indentation or JSON", async () => {
        const fleet = await makeFleet()
        const canonical = readFileSync(join(fleet.repo, "secrets/shared/app.yaml"))
        expect(readForRekey(yaml, canonical).canonicalValues).toBe(valuesPart(canonical.toString()))
        expect(readForRekey(yaml, canonical).doc).toEqual(yaml.parseEncrypted(canonical))
        const indent2 = createYamlStore({ indent: 2 }).emitEncrypted(yaml.parseEncrypted(readFileSync(join(fleet.repo, "secrets/shared/db.yaml"))))
        expect(readForRekey(yaml, indent2).canonicalValues).toBeUndefined()
        const commented = Buffer.from(`# a comment sops keeps\n${canonical.toString()}`)
        expect(readForRekey(yaml, commented).canonicalValues).toBeUndefined()
        const json = createJsonStore().emitEncrypted(yaml.parseEncrypted(canonical))
        expect(readForRekey(createJsonStore(), json).canonicalValues).toBeUndefined()
    })

    it("keys add-host over canonical and non-canonical files: each ends as the general path writes it, values unchanged, readable by the new host", async () => {
        const fleet = await makeFleet()
        const shared = join(fleet.repo, "secrets/shared")
        // Files the fast path must refuse, next to the fixture's canonical ones.
        const db = readFileSync(join(shared, "db.yaml"))
        writeFileSync(join(shared, "indent2.yaml"), createYamlStore({ indent: 2 }).emitEncrypted(yaml.parseEncrypted(db)))
        const env = { SOPS_AGE_KEY_FILE: fleet.operator, SECRETS_NOW: "2030-01-01T00:00:00Z" }
        writeFileSync(join(shared, "notes.yaml"), "# who owns this\nowner: ops # the team\nlist:\n  - a\n")
        expect((await runInProcess(["encrypt", "-i", "secrets/shared/notes.yaml"], { cwd: fleet.repo, home: fleet.emptyHome, env })).code).toBe(0)
        writeFileSync(join(shared, "data.json"), '{"k": "v", "n": 1}\n')
        expect((await runInProcess(["encrypt", "-i", "secrets/shared/data.json"], { cwd: fleet.repo, home: fleet.emptyHome, env })).code).toBe(0)
        const files = ["app.yaml", "db.yaml", "indent2.yaml", "notes.yaml", "data.json"]
        const before = new Map(files.map((f) => [f, readFileSync(join(shared, f))]))

        writeFileSync(join(fleet.repo, ".sops.yaml"), configText(fleet.keys, [...HOSTS, "web4"]))
        const r = await runInProcess(["keys", "add-host", "web4", "--age", fleet.keys.web4!.recipient, "-y"], { cwd: fleet.repo, home: fleet.emptyHome, env })
        expect(r.code).toBe(0)

        const web4Key = join(fleet.keysDir, "web4.txt")
        for (const f of files) {
            const after = readFileSync(join(shared, f))
            const store = f.endsWith(".json") ? createJsonStore() : yaml
            const doc = store.parseEncrypted(after)
            expect(Buffer.from(store.emitEncrypted(doc)).equals(after)).toBe(true)
            expect(doc.branches).toEqual(store.parseEncrypted(before.get(f)!).branches)
            expect(recipientsOf(join(shared, f))).toContain(fleet.keys.web4!.recipient)
            expect((await decryptWith(fleet, `secrets/shared/${f}`, web4Key)).code).toBe(0)
        }
        // Files our emitter wrote keep their values part byte for byte, by either path; the indent-2 one is rewritten at 4.
        for (const f of ["app.yaml", "db.yaml", "notes.yaml"]) expect(valuesPart(readFileSync(join(shared, f), "utf8"))).toBe(valuesPart(before.get(f)!.toString()))
        expect(readFileSync(join(shared, "indent2.yaml"), "utf8")).not.toBe(before.get("indent2.yaml")!.toString())
    }, 120_000)
})
