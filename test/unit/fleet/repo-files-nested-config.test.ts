/**
 * The repository walk behind `status` and `access` stops at a directory
 * with its own `.sops.yaml` (another project's sops files, such as this repository's
 * vendored interop vectors), except under `secrets/`, where a planted config must
 * not hide a plaintext file from `status --check`.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { repoFiles } from "../../../src/fleet/repo-files.js"
import { tempDir } from "../../helpers/tmp.js"

async function walked(root: string, skipNestedProjects = true): Promise<string[]> {
    const out: string[] = []
    for await (const abs of repoFiles(root, new Set([".sops.yaml", ".sops.yml"]), { skipNestedProjects })) out.push(relative(root, abs))
    return out
}

function tree(root: string, files: string[]): void {
    for (const f of files) {
        mkdirSync(join(root, f, ".."), { recursive: true })
        writeFileSync(join(root, f), "x: 1\n")
    }
}

describe("repoFiles and nested configs", () => {
    it("does not enter a directory outside secrets/ that has its own .sops.yaml or .sops.yml", async () => {
        const root = tempDir()
        tree(root, [
            ".sops.yaml",
            "secrets/shared/app.yaml",
            "test/fixtures/.sops.yaml",
            "test/fixtures/vendor/enc.yaml",
            "sub/.sops.yml",
            "sub/deep/enc.json",
            "other/enc.yaml",
        ])
        expect(await walked(root)).toEqual(["other/enc.yaml", "secrets/shared/app.yaml"])
    })

    it("walks every directory under secrets/, a planted .sops.yaml there included", async () => {
        const root = tempDir()
        tree(root, [".sops.yaml", "secrets/.sops.yaml", "secrets/a.yaml", "secrets/shared/.sops.yaml", "secrets/shared/plain.yaml", "secrets/hosts/web1/.sops.yml", "secrets/hosts/web1/x.env"])
        expect(await walked(root)).toEqual(["secrets/a.yaml", "secrets/hosts/web1/x.env", "secrets/shared/plain.yaml"])
    })

    it("a directory merely named like the layout elsewhere is not the layout", async () => {
        const root = tempDir()
        tree(root, ["vendor/secrets/.sops.yaml", "vendor/secrets/enc.yaml", "secretsx/.sops.yaml", "secretsx/enc.yaml"])
        expect(await walked(root)).toEqual([])
    })

    it("the re-keys' walk enters every directory: a committed .sops.yaml must not keep files out of a revoke", async () => {
        const root = tempDir()
        tree(root, [".sops.yaml", "secrets/a.yaml", "sub/.sops.yaml", "sub/enc.yaml"])
        expect(await walked(root, false)).toEqual(["secrets/a.yaml", "sub/enc.yaml"])
    })
})
