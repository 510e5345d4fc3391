/**
 * `keys add-user <TAB>` and `keys add-host <TAB>` offer no existing names (issue 11
 * §10): a new name is expected there, and the names taken are exactly the ones that
 * would be refused. `keys remove <TAB>` still offers them. In-process, through the
 * program's `__complete`, in a directory whose .sops.yaml names keys.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { completionLines } from "../../helpers/complete.js"
import { tempDir } from "../../helpers/tmp.js"

const answer = (cwd: string, words: string[]) => completionLines(cwd, words, "zsh")

describe("completion of a new key name", () => {
    it("offers neither the names taken nor files, where remove offers the names", async () => {
        const dir = tempDir()
        writeFileSync(
            join(dir, ".sops.yaml"),
            "keys:\n  - &user_alice age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssywqkrpyn0\n" +
                "  - &host_web1 age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw\ncreation_rules: []\n",
        )
        writeFileSync(join(dir, "alice.yaml"), "a: 1\n")
        expect(await answer(dir, ["keys", "remove", ""])).toEqual(["alice\tuser key", "web1\thost key", ":"])
        for (const cmd of ["add-user", "add-host"]) {
            expect(await answer(dir, ["keys", cmd, ""])).toEqual([":"])
            expect(await answer(dir, ["keys", cmd, "a"])).toEqual([":"])
        }
        // The flags after the name still complete.
        expect(await answer(dir, ["keys", "add-user", "bob", "--a"])).toEqual([expect.stringMatching(/^--age\t/), ":"])
    })
})
