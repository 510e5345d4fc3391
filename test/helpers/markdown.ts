/**
 * Reading fenced code blocks out of Markdown, and running them the way the docs
 * tests do: the runnable docs examples (test/e2e/docs-examples.test.ts) and the
 * README's "Use" block (test/e2e/readme-use.test.ts) share these.
 */
import { chmodSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { BIN } from "./cli.js"
import { testAuditLog } from "./state-home.js"

const FENCE = /^(`{3,}|~{3,})\s*(.*)$/

/** One fenced block: 1-based line of its opening fence, info words, body, 0-based line of its closing fence. */
export interface Fence {
    line: number
    info: string[]
    body: string
    end: number
}

/** Every fenced block of a Markdown text (`end` is the 0-based line of the closing fence). */
export function fencesOf(lines: string[]): Fence[] {
    const fences: Fence[] = []
    for (let i = 0; i < lines.length; i++) {
        const open = FENCE.exec(lines[i] ?? "")
        if (!open) continue
        const marker = open[1] ?? "```"
        const body: string[] = []
        let j = i + 1
        // A closing fence is the same character, at least as long, and nothing else.
        while (j < lines.length && !(lines[j]?.trim().startsWith(marker) && (lines[j]?.trim() ?? "").replace(/[`~]/g, "") === "")) {
            body.push(lines[j] ?? "")
            j++
        }
        fences.push({ line: i + 1, info: (open[2] ?? "").trim().split(/\s+/).filter(Boolean), body: body.join("\n"), end: j })
        i = j
    }
    return fences
}

/** The fences between a `## heading` line and the next heading of the same or a higher level. */
export function fencesUnder(markdown: string, heading: string): Fence[] {
    const lines = markdown.split("\n")
    const start = lines.indexOf(heading)
    if (start < 0) throw new Error(`no line ${JSON.stringify(heading)}`)
    const level = /^#+/.exec(heading)?.[0].length ?? 0
    const fences = fencesOf(lines).filter((f) => f.line - 1 > start)
    // Headings inside fences are code, not headings: look for the next one outside them.
    const inFence = (i: number) => fences.some((f) => i >= f.line - 1 && i <= f.end)
    let stop = lines.length
    for (let i = start + 1; i < lines.length; i++) {
        const m = /^(#+)\s/.exec(lines[i] ?? "")
        if (m && (m[1]?.length ?? 0) <= level && !inFence(i)) {
            stop = i
            break
        }
    }
    return fences.filter((f) => f.line - 1 < stop)
}

/** Put `secrets` on PATH in `dir`: the built binary, run by the node running the tests. */
export function writeSecretsShim(dir: string): void {
    writeFileSync(join(dir, "secrets"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    chmodSync(join(dir, "secrets"), 0o755)
}

/**
 * The environment the docs examples run in: nothing of the developer's (no keys,
 * no SOPS_* variables), HOME and XDG_CONFIG_HOME in the test's temp dir.
 */
export function docsEnv(opts: { path: string; home: string; extra?: Record<string, string> }): Record<string, string> {
    return {
        PATH: opts.path,
        HOME: opts.home,
        XDG_CONFIG_HOME: join(opts.home, ".config"),
        USER: "alice",
        LANG: "C.UTF-8",
        TERM: "dumb",
        GIT_CONFIG_NOSYSTEM: "1",
        // The run's audit log, not deploy's /var/log/secrets (test/helpers/state-home.ts).
        SECRETS_AUDIT_LOG: testAuditLog(),
        ...opts.extra,
    }
}
