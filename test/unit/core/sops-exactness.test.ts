/**
 * Issue 11 points 1-3, checked against sops 3.13.2's source:
 * 1. a value whose GCM tag fails exits 25 (cmd/sops/common DecryptTree: any error
 *    of tree.Decrypt is ErrorDecryptingTree), while the MAC keeps 51;
 * 2. set at a list index at or past the end appends (sops.go set(), `position >= len`);
 * 3. the output format comes from --output-type, else the file name
 *    (main.go outputStore(c, fileNameOverride)), not from the input type.
 */
import { describe, expect, it } from "vitest"
import { encryptValue } from "../../../src/core/cipher.js"
import { decryptBranches, encryptBranches } from "../../../src/core/walk.js"
import { getAt, setAt } from "../../../src/core/tree-path.js"
import { comment, entry, int, list, map, str } from "../../../src/core/tree.js"
import { openEncrypted } from "../../../src/engine/open.js"
import { encryptNew } from "../../../src/engine/seal.js"
import { ExitCode, IntegrityError, SecretsError } from "../../../src/errors.js"
import { parseIdentities } from "../../../src/keys/identity-file.js"
import { loadStore } from "../../../src/stores/index.js"
import { resolveFormats } from "../../../src/cli/formats.js"
import { ageKeygen, tempDir } from "../../helpers/tmp.js"

const SECRET = "hunter2-exactness"
const KEY = new Uint8Array(32).fill(7)
const OPTS = { rule: { unencryptedSuffix: "_unencrypted" }, macOnlyEncrypted: false }

function thrown(f: () => unknown): SecretsError {
    try {
        f()
    } catch (e) {
        expect(e).toBeInstanceOf(SecretsError)
        return e as SecretsError
    }
    throw new Error("expected a failure")
}

async function rejected(p: Promise<unknown>): Promise<SecretsError> {
    try {
        await p
    } catch (e) {
        expect(e).toBeInstanceOf(SecretsError)
        return e as SecretsError
    }
    throw new Error("expected a failure")
}

describe("point 1: a failed GCM tag exits 25, a MAC mismatch 51", () => {
    it("the tree walk reports a value that does not authenticate as ErrorDecryptingTree (25)", () => {
        const enc = encryptBranches([map(entry("a", str(SECRET)), entry("b", str("x")))], KEY, OPTS)
        // a's ciphertext under b: its tag was made with the AAD "a:", so it fails at "b:".
        const moved = map(entry("a", getAt(enc.branches[0]!, ["a"])!), entry("b", getAt(enc.branches[0]!, ["a"])!))
        const err = thrown(() => decryptBranches([moved], KEY, OPTS))
        expect(err).toBeInstanceOf(IntegrityError)
        expect(err.code).toBe(ExitCode.ErrorDecryptingTree)
        expect(err.code).toBe(25)
        expect(err.message).toBe('could not decrypt value: authentication failed at ["b"]')
        expect(err.message).not.toContain(SECRET)
    })

    it("a value encrypted under another key is 25 too (sops: 'Error decrypting tree')", () => {
        const other = new Uint8Array(32).fill(9)
        const doc = map(entry("a", str(encryptValue(str(SECRET), other, "a:"))))
        expect(thrown(() => decryptBranches([doc], KEY, OPTS)).code).toBe(25)
    })

    async function fixture() {
        const dir = tempDir()
        const key = ageKeygen(dir, "k")
        const store = await loadStore("yaml")
        const plain = `user: admin\npassword: ${SECRET}\nnote_unencrypted: clear\n`
        const out = Buffer.from(await encryptNew(store.parsePlain(Buffer.from(plain)), store, { groups: [[key.recipient]] }, new Date())).toString()
        return { store, out, ids: parseIdentities(key.text, key.file) }
    }

    it("opening a file with a value moved to another key: 25, with or without --ignore-mac", async () => {
        const { store, out, ids } = await fixture()
        const lines = out.split("\n")
        const user = lines.findIndex((l) => l.startsWith("user:"))
        const pass = lines.findIndex((l) => l.startsWith("password:"))
        lines[user] = "user:" + lines[pass]!.slice("password:".length)
        const swapped = Buffer.from(lines.join("\n"))
        const err = await rejected(openEncrypted(swapped, store, ids))
        expect([err.code, err.message]).toEqual([25, 'could not decrypt value: authentication failed at ["user"]'])
        // sops decrypts the tree before it looks at the MAC, so --ignore-mac does not help.
        expect((await rejected(openEncrypted(swapped, store, ids, { ignoreMac: true }))).code).toBe(25)
    })

    it("a clear value changed, or a MAC that does not decrypt, stays 51", async () => {
        const { store, out, ids } = await fixture()
        const edited = await rejected(openEncrypted(Buffer.from(out.replace("note_unencrypted: clear", "note_unencrypted: other")), store, ids))
        expect([edited.code, edited.message]).toEqual([51, "MAC mismatch"])
        const badMac = out.replace(/mac: ENC\[AES256_GCM,data:(.)/, (_m, c: string) => `mac: ENC[AES256_GCM,data:${c === "A" ? "B" : "A"}`)
        expect(badMac).not.toBe(out)
        const mac = await rejected(openEncrypted(Buffer.from(badMac), store, ids))
        expect([mac.code, mac.message]).toEqual([51, "cannot decrypt MAC"])
    })
})

describe("point 2: set at or past the end of a list appends, as sops' set() for position >= len", () => {
    const doc = map(entry("hosts", list(comment(" first"), str("a"), str("b"))), entry("n", int(1)))

    it("one past the end appends", () => {
        const out = setAt(doc, ["hosts", 2], str("c"))
        expect(getAt(out, ["hosts"])).toEqual(list(comment(" first"), str("a"), str("b"), str("c")))
    })

    it("further past the end appends one item too (no holes), as sops does", () => {
        const out = setAt(doc, ["hosts", 9], str("c"))
        expect(getAt(out, ["hosts"])).toEqual(list(comment(" first"), str("a"), str("b"), str("c")))
        expect(getAt(out, ["hosts", 2])).toEqual(str("c"))
        expect(getAt(out, ["hosts", 9])).toBeUndefined()
    })

    it("a path that continues past the end appends what the rest of the path builds (valueFromPathAndLeaf)", () => {
        const out = setAt(doc, ["hosts", 5, "name"], str("c"))
        expect(getAt(out, ["hosts"])).toEqual(list(comment(" first"), str("a"), str("b"), map(entry("name", str("c")))))
        const lists = setAt(doc, ["hosts", 7, 3], str("d"))
        expect(getAt(lists, ["hosts", 2])).toEqual(list(str("d")))
    })

    it("a missing list is created with the value as its only item, whatever the index", () => {
        expect(getAt(setAt(doc, ["new", 4], str("x")), ["new"])).toEqual(list(str("x")))
    })
})

describe("point 3: the output format follows the file name before the input type", () => {
    it.each([
        // [file, filename-override, input-type, output-type] -> [input, output]
        ["z.yaml", undefined, "json", undefined, "json", "yaml"],
        ["z.yaml", undefined, undefined, undefined, "yaml", "yaml"],
        ["z.json", undefined, undefined, "yaml", "json", "yaml"],
        ["z.json", undefined, "yaml", "dotenv", "yaml", "dotenv"],
        ["z.enc", "a.env", undefined, undefined, "dotenv", "dotenv"],
        ["z.yaml", "a.ini", "json", undefined, "json", "ini"],
        [undefined, "a.json", "yaml", undefined, "yaml", "json"],
        // A name with no extension we know: sops would use its binary store and fail
        // to print a tree; we keep the input format.
        ["z.enc", undefined, "yaml", undefined, "yaml", "yaml"],
        [undefined, undefined, "json", undefined, "json", "json"],
        ["z.enc", undefined, undefined, undefined, "binary", "binary"],
        ["z.yaml", undefined, "binary", undefined, "binary", "yaml"],
    ] as const)("file %s, override %s, --input-type %s, --output-type %s: %s in, %s out", (file, filenameOverride, inputType, outputType, input, output) => {
        expect(resolveFormats({ file, filenameOverride, inputType, outputType })).toEqual({ input, output })
    })

    it("stdin without --input-type or --filename-override is still a conflict (8)", () => {
        expect(thrown(() => resolveFormats({})).code).toBe(ExitCode.ConflictingParameters)
    })
})
