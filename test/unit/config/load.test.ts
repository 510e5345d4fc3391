import { describe, expect, it, test, vi } from "vitest"
import { findConfig, parseConfig } from "../../../src/config/load.js"

/** A fake file system holding exactly `files`, recording every path asked about. */
function fakeFs(files: readonly string[]): { exists: (p: string) => boolean; asked: string[] } {
    const set = new Set(files)
    const asked: string[] = []
    return {
        exists: (p) => {
            asked.push(p)
            return set.has(p)
        },
        asked,
    }
}

describe("findConfig", () => {
    test("an explicit --config / SOPS_CONFIG path wins without looking at the disk", () => {
        const fs = fakeFs(["/repo/.sops.yaml"])
        expect(findConfig({ explicit: "/etc/my.yaml", filePath: "/repo/a.yaml", cwd: "/repo", exists: fs.exists })).toBe("/etc/my.yaml")
        expect(fs.asked).toEqual([])
    })

    test("an empty explicit value is ignored", () => {
        const fs = fakeFs(["/repo/.sops.yaml"])
        expect(findConfig({ explicit: "", cwd: "/repo", exists: fs.exists })).toBe("/repo/.sops.yaml")
    })

    test("walks up from the target file's directory first (fixes sops #242)", () => {
        const fs = fakeFs(["/repo/.sops.yaml", "/repo/services/a/.sops.yaml"])
        expect(findConfig({ filePath: "/repo/services/a/secrets/x.yaml", cwd: "/repo", exists: fs.exists })).toBe(
            "/repo/services/a/.sops.yaml",
        )
        expect(fs.asked).toEqual([
            "/repo/services/a/secrets/.sops.yaml",
            "/repo/services/a/secrets/.sops.yml",
            "/repo/services/a/.sops.yaml",
        ])
    })

    test("a relative file path is taken from cwd", () => {
        const fs = fakeFs(["/repo/services/.sops.yaml"])
        expect(findConfig({ filePath: "services/a/x.yaml", cwd: "/repo", exists: fs.exists })).toBe("/repo/services/.sops.yaml")
    })

    test("falls back to the walk from cwd, as sops does, when the file's ancestors have none", () => {
        const fs = fakeFs(["/home/me/work/.sops.yaml"])
        expect(findConfig({ filePath: "/tmp/scratch/x.yaml", cwd: "/home/me/work/sub", exists: fs.exists })).toBe(
            "/home/me/work/.sops.yaml",
        )
        // Directories shared by both walks are asked about once.
        expect(fs.asked.filter((p) => p === "/.sops.yaml")).toHaveLength(1)
    })

    test("without a file path, walks up from cwd", () => {
        const fs = fakeFs(["/a/.sops.yaml"])
        expect(findConfig({ cwd: "/a/b/c/d", exists: fs.exists })).toBe("/a/.sops.yaml")
    })

    test("nothing found: undefined", () => {
        const fs = fakeFs([])
        expect(findConfig({ filePath: "/x/y/z.yaml", cwd: "/x", exists: fs.exists })).toBeUndefined()
        expect(fs.asked).toEqual(["/x/y/.sops.yaml", "/x/y/.sops.yml", "/x/.sops.yaml", "/x/.sops.yml", "/.sops.yaml", "/.sops.yml"])
    })

    test("stops after 100 directory levels, like sops' maxDepth", () => {
        const deep = "/" + Array.from({ length: 120 }, (_, i) => `d${i}`).join("/")
        const fs = fakeFs(["/.sops.yaml"])
        expect(findConfig({ cwd: deep, exists: fs.exists })).toBeUndefined()
        expect(fs.asked.filter((p) => p.endsWith(".sops.yaml"))).toHaveLength(100)
        const shallow = "/" + Array.from({ length: 99 }, (_, i) => `d${i}`).join("/")
        expect(findConfig({ cwd: shallow, exists: fakeFs(["/.sops.yaml"]).exists })).toBe("/.sops.yaml")
    })

    test(".sops.yml is never used, but a warning says so", () => {
        const warnings: string[] = []
        const warn = (m: string): void => {
            warnings.push(m)
        }
        expect(findConfig({ cwd: "/repo/sub", exists: fakeFs(["/repo/sub/.sops.yml"]).exists, warn })).toBeUndefined()
        expect(warnings).toEqual(['ignoring "/repo/sub/.sops.yml": the config file must be called ".sops.yaml"'])

        warnings.length = 0
        expect(findConfig({ cwd: "/repo/sub", exists: fakeFs(["/repo/sub/.sops.yml", "/repo/.sops.yaml"]).exists, warn })).toBe(
            "/repo/.sops.yaml",
        )
        expect(warnings).toEqual([
            'ignoring "/repo/sub/.sops.yml": the config file must be called ".sops.yaml"; using "/repo/.sops.yaml" instead',
        ])

        // A .sops.yaml beside it wins silently: sops only looks for the alternate where the real one is missing.
        warnings.length = 0
        expect(findConfig({ cwd: "/r", exists: fakeFs(["/r/.sops.yaml", "/r/.sops.yml"]).exists, warn })).toBe("/r/.sops.yaml")
        expect(warnings).toEqual([])
    })
})

describe("warnings stay in our voice", () => {
    // Found by the soak campaign: a list used as a key made the yaml package print
    // "(node:PID) Warning: Keys with collection values will be stringified … [ a, b ]"
    // through process.emitWarning, quoting the file, outside `secrets: …`.
    it("a collection key in .sops.yaml raises no Node warning", () => {
        const emitted: unknown[] = []
        const spy = vi.spyOn(process, "emitWarning").mockImplementation((w: unknown) => void emitted.push(w))
        try {
            parseConfig("creation_rules:\n  - age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n? [a, b]\n: 1\n", "/r/.sops.yaml")
        } finally {
            spy.mockRestore()
        }
        expect(emitted).toEqual([])
    })
})
