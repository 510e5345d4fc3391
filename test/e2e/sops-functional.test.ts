/**
 * Cases of sops' own functional suite (getsops/sops functional-tests/src/lib.rs,
 * v3.13.2), translated from Rust and run through our binary with the same inputs
 * and expectations, plus issue 11 points 1-4 end to end.
 *
 * The Rust suite runs `./sops` in functional-tests/, whose .sops.yaml ends with a
 * catch-all rule (a PGP key there, an age key here), on absolute paths of files in
 * a temp directory; so do we. Our TMP_DIR is inside that directory, because we look
 * for .sops.yaml from the file's directory before the working directory (sops #242).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "../helpers/cli.js"
import { ageKeygen, tempDir } from "../helpers/tmp.js"

// Each test runs the binary a few times; a loaded machine needs more than the default.
const SLOW = { timeout: 120_000 }

/** The functional-tests directory (cwd, .sops.yaml) and TMP_DIR (the files). */
function suite() {
    const cwd = tempDir()
    const tmp = join(cwd, "tmp")
    mkdirSync(tmp)
    const key = ageKeygen(cwd, "key")
    writeFileSync(join(cwd, ".sops.yaml"), `creation_rules:\n    - age: ${key.recipient}\n`)
    const sops = (...args: string[]) => runCli(args, { cwd, env: { SOPS_AGE_KEY_FILE: key.file } })
    /** prepare_temp_file: the file's absolute path. */
    const prepare = (name: string, contents: string) => {
        const path = join(tmp, name)
        writeFileSync(path, contents)
        return path
    }
    return { sops, prepare }
}

describe("sops functional tests", () => {
    // lib.rs: set_json_file_update_idempotent_write
    it("set_json_file_update_idempotent_write: set --output-type yaml of an unchanged value rewrites the JSON file as YAML", SLOW, async () => {
        const { sops, prepare } = suite()
        const filePath = prepare("test_set_update_idempotent_write.json", `{"a": 2, "b": "ba"}`)
        expect((await sops("encrypt", "-i", filePath)).code, "sops didn't exit successfully").toBe(0)
        const before = readFileSync(filePath, "utf8")
        const output = await sops("set", "--output-type", "yaml", filePath, `["b"]`, `"ba"`)
        expect([output.code, output.stderr]).toEqual([0, ""])
        const after = readFileSync(filePath, "utf8")
        expect(before).not.toBe(after)
        expect(after.startsWith("a: ")).toBe(true)
        const decrypted = await sops("decrypt", "--input-type", "yaml", "--output-type", "yaml", filePath)
        expect(decrypted.stdout).toBe("a: 2\nb: ba\n")
    })

    // lib.rs: set_json_file_update_idempotent_nowrite
    it("set_json_file_update_idempotent_nowrite: with --idempotent an unchanged value writes nothing, --output-type or not", SLOW, async () => {
        const { sops, prepare } = suite()
        const filePath = prepare("test_set_update_idempotent_nowrite.json", `{"a": 2, "b": "ba"}`)
        expect((await sops("encrypt", "-i", filePath)).code, "sops didn't exit successfully").toBe(0)
        const before = readFileSync(filePath, "utf8")
        const output = await sops("set", "--output-type", "yaml", "--idempotent", filePath, `["b"]`, `"ba"`)
        expect(output.code, output.stderr).toBe(0)
        const after = readFileSync(filePath, "utf8")
        expect(after).toBe(before)
    })

    // lib.rs: extract_string
    it("extract_string: a string value is printed as its bytes, without a newline", SLOW, async () => {
        const { sops, prepare } = suite()
        const filePath = prepare("test_extract_string.yaml", "multiline: |\n  multi\n  line")
        expect((await sops("encrypt", "-i", filePath)).code, "SOPS failed to encrypt a file").toBe(0)
        const output = await sops("decrypt", "--extract", `["multiline"]`, filePath)
        expect(output.code, "SOPS failed to extract").toBe(0)
        expect(output.stdoutBytes).toEqual(Buffer.from("multi\nline"))
    })
})

describe("issue 11 points 1-4 through the binary", () => {
    it("point 1: a value whose tag fails exits 25, also with --ignore-mac; a changed clear value exits 51", SLOW, async () => {
        const { sops, prepare } = suite()
        const filePath = prepare("tags.yaml", "a: first-secret\nb: second-secret\nc_unencrypted: clear\n")
        expect((await sops("encrypt", "-i", filePath)).code).toBe(0)
        const good = readFileSync(filePath, "utf8")
        const lines = good.split("\n")
        // a's ciphertext under b: bound to the path "a:", its tag fails at "b:".
        lines[1] = "b:" + lines[0]!.slice("a:".length)
        writeFileSync(filePath, lines.join("\n"))
        for (const args of [["decrypt", filePath], ["decrypt", "--ignore-mac", filePath]]) {
            const r = await sops(...args)
            expect([r.code, r.stdout, r.stderr]).toEqual([25, "", `secrets: error: "${filePath}": could not decrypt value: authentication failed at ["b"]\n`])
        }
        writeFileSync(filePath, good.replace("c_unencrypted: clear", "c_unencrypted: other"))
        const mac = await sops("decrypt", filePath)
        expect([mac.code, mac.stdout]).toEqual([51, ""])
        expect(mac.stderr).toContain("MAC mismatch")
    })

    it("point 2: set far past the end of a list appends", SLOW, async () => {
        const { sops, prepare } = suite()
        const filePath = prepare("list.yaml", "hosts:\n    - a\n    - b\n")
        expect((await sops("encrypt", "-i", filePath)).code).toBe(0)
        expect((await sops("set", filePath, `["hosts"][2]`, `"c"`)).code).toBe(0)
        expect((await sops("set", filePath, `["hosts"][10]`, `"d"`)).code).toBe(0)
        expect((await sops("decrypt", filePath)).stdout).toBe("hosts:\n    - a\n    - b\n    - c\n    - d\n")
    })

    it("point 3: the output format follows the file name (or --filename-override), not --input-type or --output", SLOW, async () => {
        const { sops, prepare } = suite()
        // JSON in a file named .yaml: read as JSON, printed as YAML, as sops does.
        const filePath = prepare("z.yaml", `{"a": "x", "num": 1}`)
        expect((await sops("encrypt", "--input-type", "json", "-i", filePath)).code).toBe(0)
        expect(readFileSync(filePath, "utf8")).toMatch(/^a: ENC\[/)
        const yaml = await sops("decrypt", "--input-type", "yaml", filePath)
        expect([yaml.code, yaml.stdout]).toEqual([0, "a: x\nnum: 1\n"])
        const json = prepare("j.yaml", readFileSync(filePath, "utf8"))
        expect((await sops("decrypt", "--filename-override", "j.json", "--input-type", "yaml", json)).stdout).toBe(`{\n\t"a": "x",\n\t"num": 1\n}\n`)
        // --output names a file, not a format: YAML lands in out.json, as in sops.
        const out = prepare("out.json", "")
        expect((await sops("decrypt", "--output", out, filePath)).code).toBe(0)
        expect(readFileSync(out, "utf8")).toBe("a: x\nnum: 1\n")
    })

    it("point 4: set --input-type reads a misnamed file and, with no --output-type, writes it in its name's format", SLOW, async () => {
        const { sops, prepare } = suite()
        const filePath = prepare("misnamed.yaml", `{"a": 2, "b": "ba"}`)
        expect((await sops("encrypt", "--input-type", "json", "--output-type", "json", "-i", filePath)).code).toBe(0)
        expect(readFileSync(filePath, "utf8").startsWith("{")).toBe(true)
        const r = await sops("set", "--input-type", "json", filePath, `["b"]`, `"bb"`)
        expect([r.code, r.stderr]).toEqual([0, ""])
        expect(readFileSync(filePath, "utf8")).toMatch(/^a: ENC\[/)
        expect((await sops("decrypt", filePath)).stdout).toBe("a: 2\nb: bb\n")
    })

    it("point 4, as sops' unset: unset --output-type rewrites the file in that format", SLOW, async () => {
        const { sops, prepare } = suite()
        const filePath = prepare("unset.json", `{"a": 2, "b": "ba"}`)
        expect((await sops("encrypt", "-i", filePath)).code).toBe(0)
        const r = await sops("unset", "--output-type", "yaml", filePath, `["b"]`)
        expect([r.code, r.stderr]).toEqual([0, ""])
        expect(readFileSync(filePath, "utf8")).toMatch(/^a: ENC\[/)
        expect((await sops("decrypt", "--input-type", "yaml", "--output-type", "yaml", filePath)).stdout).toBe("a: 2\n")
    })
})
