import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { ExitCode, SecretsError } from "../../../src/errors.js"
import { resolveEditor, runEditor, whichOnPath } from "../../../src/integrations/editor.js"
import { tempDir } from "../../helpers/tmp.js"

const onPath = (...names: string[]) => (name: string) => (names.includes(name) ? `/usr/bin/${name}` : null)

async function caught(p: Promise<unknown> | (() => unknown)): Promise<SecretsError> {
    try {
        if (typeof p === "function") p()
        else await p
    } catch (e) {
        if (e instanceof SecretsError) return e
        throw e
    }
    throw new Error("expected a SecretsError")
}

describe("resolveEditor", () => {
    const table: [string, Record<string, string>, string[], string[]][] = [
        ["SOPS_EDITOR first", { SOPS_EDITOR: "nano -w", EDITOR: "vim", VISUAL: "emacs" }, ["vim"], ["nano", "-w"]],
        ["then EDITOR", { EDITOR: "code --wait", VISUAL: "emacs" }, ["vim"], ["code", "--wait"]],
        ["then VISUAL", { VISUAL: "emacs -nw" }, ["vim"], ["emacs", "-nw"]],
        ["empty SOPS_EDITOR counts as unset", { SOPS_EDITOR: "", EDITOR: "ed" }, [], ["ed"]],
        ["blank EDITOR counts as unset", { EDITOR: "  ", VISUAL: "vis" }, [], ["vis"]],
        ["a comment-only variable counts as unset", { EDITOR: "# nothing", VISUAL: "vis" }, [], ["vis"]],
        ["quoted path with spaces", { EDITOR: "'/opt/My Editor/bin/ed' --flag" }, [], ["/opt/My Editor/bin/ed", "--flag"]],
        ["vim from PATH", {}, ["vim", "nano", "vi"], ["/usr/bin/vim"]],
        ["nano before vi", {}, ["vi", "nano"], ["/usr/bin/nano"]],
        ["vi last", {}, ["vi"], ["/usr/bin/vi"]],
    ]
    it.each(table)("%s", (_name, env, path, expected) => {
        expect(resolveEditor(env, onPath(...path))).toEqual(expected)
    })

    it("fails with exit 201 and a hint when nothing is found", async () => {
        const e = await caught(() => resolveEditor({ PATH: "/nowhere" }, onPath()))
        expect(e.code).toBe(ExitCode.NoEditorFound)
        expect(e.message).toBe("no editor found: none of $SOPS_EDITOR, $EDITOR, $VISUAL is set and none of vim, nano, vi is on PATH")
        expect(e.hints).toEqual(["set SOPS_EDITOR or EDITOR, for example EDITOR=nano or EDITOR=\"code --wait\""])
    })

    it("fails with exit 201 on an unparsable variable, without quoting it", async () => {
        const e = await caught(() => resolveEditor({ EDITOR: "vim 'secret-ish" }, onPath("vim")))
        expect(e.code).toBe(ExitCode.NoEditorFound)
        expect(e.message).toBe("could not parse $EDITOR: malformed command line: a quote is not closed")
        expect(e.message).not.toContain("secret-ish")
    })
})

describe("whichOnPath", () => {
    it("finds the first executable regular file on PATH", () => {
        const dir = tempDir()
        const a = join(dir, "a")
        const b = join(dir, "b")
        mkdirSync(a)
        mkdirSync(b)
        writeFileSync(join(a, "vim"), "not executable")
        chmodSync(join(a, "vim"), 0o644)
        mkdirSync(join(a, "nano")) // a directory is not a program
        writeFileSync(join(b, "vim"), "#!/bin/sh\n", { mode: 0o755 })
        writeFileSync(join(b, "nano"), "#!/bin/sh\n", { mode: 0o755 })
        const which = whichOnPath({ PATH: `${a}:${b}` })
        // root may read anything but X_OK still needs an execute bit somewhere
        expect(which("vim")).toBe(join(b, "vim"))
        expect(which("nano")).toBe(join(b, "nano"))
        expect(which("vi")).toBeNull()
    })
})

describe("runEditor", () => {
    it("runs a scripted editor on the file, path appended, no shell", async () => {
        const dir = tempDir()
        const file = join(dir, "secret file.yaml")
        writeFileSync(file, "a: 1\n")
        await runEditor(["sh", "-c", "printf 'b: 2  # %s %s\\n' \"$0\" \"$#\" >> \"$1\"", "ed;$(x)"], file)
        // $0 arrives literally (no shell interpreted the argv) and the path is one argument.
        expect(readFileSync(file, "utf8")).toBe("a: 1\nb: 2  # ed;$(x) 1\n")
    })

    it("runs an editor script file", async () => {
        const dir = tempDir()
        const script = join(dir, "editor.sh")
        writeFileSync(script, "#!/bin/sh\necho x >> \"$1\"\n", { mode: 0o755 })
        const file = join(dir, "f.json")
        writeFileSync(file, "{}\n")
        await runEditor([script], file)
        expect(readFileSync(file, "utf8")).toBe("{}\nx\n")
    })

    it("turns a non-zero exit into exit 201 naming the program only", async () => {
        const e = await caught(runEditor(["sh", "-c", "exit 3", "token-123"], "/dev/null"))
        expect(e.code).toBe(ExitCode.NoEditorFound)
        expect(e.message).toBe("the editor \"sh\" exited with status 3")
    })

    it("reports an editor killed by a signal", async () => {
        const e = await caught(runEditor(["sh", "-c", "kill -9 $$"], "/dev/null"))
        expect(e.code).toBe(ExitCode.NoEditorFound)
        expect(e.message).toBe("the editor \"sh\" was killed by SIGKILL")
    })

    it("reports a missing program as exit 201 with a hint", async () => {
        const e = await caught(runEditor(["/nonexistent/editor-xyz", "--flag"], "/dev/null"))
        expect(e.code).toBe(ExitCode.NoEditorFound)
        expect(e.message).toBe("could not start the editor \"/nonexistent/editor-xyz\" (ENOENT)")
        expect(e.hints).toEqual(["check $SOPS_EDITOR / $EDITOR: the program is not on PATH"])
    })
})
