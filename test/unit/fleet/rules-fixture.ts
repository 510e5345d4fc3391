/**
 * A small fleet's `.sops.yaml` for the pure rule tests (revoke-plan, rule-recipients):
 * bob's own directory, a 2-of-2 Shamir split, and a shared directory. Recipients
 * are compared as strings there; their syntax is not checked.
 */
import type { KeyGroup } from "../../../src/core/metadata.js"

export const A = "age1alice"
export const B = "age1bob"
export const B2 = "age1bobsecond"
export const H = "age1host"
export const R = "age1recovery"

/** A key group in file metadata, with dummy stanzas. */
export const group = (...rs: string[]): KeyGroup => rs.map((recipient) => ({ type: "age", recipient, enc: "x" }))

export const RULES_CONFIG = [
    "keys:",
    `  - &user_alice ${A}`,
    `  - &user_bob ${B}`,
    `  - &host_web1 ${H}`,
    `  - &recovery ${R}`,
    "creation_rules:",
    "  - path_regex: ^secrets/users/bob/",
    "    key_groups:",
    "      - age: [*user_bob, *recovery]",
    "  - path_regex: ^secrets/split/",
    "    shamir_threshold: 2",
    "    key_groups:",
    "      - age: [*user_alice, *user_bob]",
    "      - age: [*recovery]",
    "  - path_regex: ^secrets/shared/",
    "    key_groups:",
    "      - age: [*user_alice, *user_bob, *host_web1, *recovery]",
    "",
].join("\n")
