/**
 * Per-value policies in `.sops.yaml` (src/fleet/value-policy.ts): the issue's own
 * example parses, every field is checked with the policy's position, and the first
 * matching policy applies, with ["*"] standing for any key at its level.
 */
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { ConfigError } from "../../../src/errors.js"
import { pathMatches, policyFor, valuePolicies } from "../../../src/fleet/value-policy.js"

const ISSUE_EXAMPLE = `
secrets:
  values:
    - path: '["db"]["password"]'
      files: ^secrets/hosts/
      generate: password:32
      rotate_every: 90d
      expires: 2027-03-01
      hook: ./scripts/set-db-password.sh
      category: database
    - path: '["api"]["*"]'
      rotate_every: 12w
      category: api
`

describe("valuePolicies", () => {
    it("reads the issue's example", () => {
        const secrets = parse(ISSUE_EXAMPLE).secrets
        const [db, api] = valuePolicies(secrets)
        expect(db).toMatchObject({ index: 1, path: ["db", "password"], generate: { kind: "password", length: 32 }, rotateEveryDays: 90, hook: "./scripts/set-db-password.sh", category: "database" })
        expect(db!.expires?.toISOString()).toBe("2027-03-01T00:00:00.000Z")
        expect(api).toMatchObject({ index: 2, path: ["api", "*"], rotateEveryDays: 84, category: "api" })
        expect(valuePolicies({})).toEqual([])
    })

    it.each([
        ["values: {}", /secrets\.values must be a list/],
        ["values: [x]", /secrets\.values\[1\] must be a mapping/],
        ["values: [{path: 3}]", /secrets\.values\[1\]\.path must be a string/],
        ["values: [{path: 'db.password'}]", /secrets\.values\[1\]\.path: invalid tree path/],
        ["values: [{path: '[\"a\"]', generat: uuid}]", /unknown field "generat"/],
        ["values: [{path: '[\"a\"]', generate: pin:4}]", /secrets\.values\[1\]\.generate: "pin:4" is not one of/],
        ["values: [{path: '[\"a\"]', rotate_every: 3 months}]", /rotate_every is not a number of days/],
        ["values: [{path: '[\"a\"]', expires: 2027-02-30}]", /expires must be a date written YYYY-MM-DD/],
        ["values: [{path: '[\"a\"]', files: '(unclosed'}]", /files is not a valid regular expression/],
        ["values: [{path: '[\"a\"]', category: 'Data Base'}]", /category must be a short lower-case word/],
        ["values: [{path: '[\"a\"]'}, {path: '[\"b\"]', hook: ''}]", /secrets\.values\[2\]\.hook must be a command/],
    ])("refuses %s with a line naming the policy", (yamlText, message) => {
        const secrets = parse(yamlText) as Record<string, unknown>
        expect(() => valuePolicies(secrets, "repo/.sops.yaml")).toThrow(ConfigError)
        expect(() => valuePolicies(secrets, "repo/.sops.yaml")).toThrow(message)
    })
})

describe("policyFor", () => {
    const policies = valuePolicies(parse(ISSUE_EXAMPLE).secrets)

    it("takes the first policy whose path and files match", () => {
        expect(policyFor(policies, "secrets/hosts/web1/app.yaml", ["db", "password"])?.index).toBe(1)
        expect(policyFor(policies, "secrets/shared/app.yaml", ["db", "password"])).toBeUndefined()
        expect(policyFor(policies, "secrets/shared/app.yaml", ["api", "stripe"])?.index).toBe(2)
        expect(policyFor(policies, "secrets/shared/app.yaml", ["api", "stripe", "key"])).toBeUndefined()
    })

    it("matches * against any key at its level and nothing else", () => {
        expect(pathMatches(["*", "password"], ["db", "password"])).toBe(true)
        expect(pathMatches(["*", "password"], [0, "password"])).toBe(true)
        expect(pathMatches(["*"], ["db", "password"])).toBe(false)
        expect(pathMatches(["db"], ["*"])).toBe(false)
    })
})
