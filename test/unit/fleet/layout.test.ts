import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { anchorFor, anchorsForRule, layoutRules, parseLayoutRegex, pathRegexFor } from "../../../src/fleet/layout.js"

const key = (kind: "host" | "user" | "recovery", name: string) => ({ kind, name: kind === "recovery" ? "recovery" : name, anchor: anchorFor(kind, name) })

describe("layoutRules", () => {
    it("gives hosts, then users, then shared, with the layout's readers", () => {
        const keys = [key("user", "alice"), key("host", "web1"), key("user", "bob"), key("host", "db1"), key("recovery", "")]
        expect(layoutRules(keys).map((r) => [r.pathRegex, r.dir, r.anchors])).toEqual([
            ["^secrets/hosts/web1/", "secrets/hosts/web1", ["user_alice", "user_bob", "host_web1", "recovery"]],
            ["^secrets/hosts/db1/", "secrets/hosts/db1", ["user_alice", "user_bob", "host_db1", "recovery"]],
            ["^secrets/users/alice/", "secrets/users/alice", ["user_alice", "recovery"]],
            ["^secrets/users/bob/", "secrets/users/bob", ["user_bob", "recovery"]],
            ["^secrets/shared/", "secrets/shared", ["user_alice", "user_bob", "host_web1", "host_db1", "recovery"]],
        ])
    })

    it("leaves out nothing but an empty shared rule", () => {
        expect(layoutRules([])).toEqual([])
        expect(layoutRules([key("recovery", "")]).map((r) => r.pathRegex)).toEqual(["^secrets/shared/"])
        expect(anchorsForRule([key("host", "h")], "host", "h")).toEqual(["host_h"])
        expect(anchorsForRule([key("host", "h")], "user", "h")).toBeUndefined()
    })

    it("other anchors take no part", () => {
        expect(layoutRules([{ kind: "other", name: "ci", anchor: "ci" }])).toEqual([])
    })
})

describe("parseLayoutRegex", () => {
    it("inverts pathRegexFor for every valid name", () => {
        fc.assert(
            fc.property(fc.constantFrom("host" as const, "user" as const), fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/), (kind, name) => {
                expect(parseLayoutRegex(pathRegexFor(kind, name))).toEqual({ kind, name })
            }),
        )
        expect(parseLayoutRegex("^secrets/shared/")).toEqual({ kind: "shared", name: "" })
    })

    it("does not claim other rules", () => {
        for (const re of ["secrets/hosts/web1/", "^secrets/hosts/web1", "^secrets/hosts/Web1/", "^secrets/hosts/a/b/", ".*", ""]) {
            expect(parseLayoutRegex(re)).toBeUndefined()
        }
    })
})
