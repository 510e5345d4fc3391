/**
 * The walk builds each entry's path as `dir/name` from resolve(cwd) instead of
 * path.join per entry (issue 14 target 6). The directory handed in may be relative,
 * end in a slash, hold `.`/`..` segments or be `/` itself: every form finds the same
 * files as the plain absolute path, as join's normalising did.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { basename, dirname, join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { findEncryptedFiles } from "../../../src/cli/completion/sources.js"
import { tempDir } from "../../helpers/tmp.js"

const YAML_META = 'sops:\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:x]\n    version: 3.13.0\n'

describe("findEncryptedFiles, cwd forms", () => {
    it("finds the same files from an absolute, relative, slash-ended or dotted cwd", () => {
        const dir = join(tempDir(), "repo")
        mkdirSync(join(dir, "a", "b"), { recursive: true })
        writeFileSync(join(dir, "top.enc.yaml"), `x: ENC[AES256_GCM,data:y]\n${YAML_META}`)
        writeFileSync(join(dir, "a", "b", "deep.enc.env"), "X=ENC[AES256_GCM,data:y]\nsops_version=3.13.0\n")
        writeFileSync(join(dir, "a", "plain.txt"), "not sops at all\n")
        const expected = ["a/b/deep.enc.env", "top.enc.yaml"]
        expect(findEncryptedFiles(dir)).toEqual(expected)
        expect(findEncryptedFiles(`${dir}/`)).toEqual(expected)
        expect(findEncryptedFiles(`${dir}/./a/..`)).toEqual(expected)
        expect(findEncryptedFiles(`${dirname(dir)}//${basename(dir)}`)).toEqual(expected)
        expect(findEncryptedFiles(relative(process.cwd(), dir))).toEqual(expected)
        expect(findEncryptedFiles(join(dir, "a"))).toEqual(["b/deep.enc.env"])
    })
})
