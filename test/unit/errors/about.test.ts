/**
 * SecretsError.about: one subject in front of the message, whichever layer adds it
 * last, and the error keeps its class, code and hints.
 */
import { describe, expect, it } from "vitest"

import { ExitCode, FormatError, IntegrityError, NoIdentityError, SecretsError } from "../../../src/errors.js"

describe("SecretsError.about", () => {
    it("puts the subject in front of the message", () => {
        const e = new SecretsError(ExitCode.NoFileSpecified, "it does not exist", ["check the path"]).about('"a.yaml"')
        expect(e.message).toBe('"a.yaml": it does not exist')
        expect(e.detail).toBe("it does not exist")
        expect(e.code).toBe(ExitCode.NoFileSpecified)
        expect(e.hints).toEqual(["check the path"])
    })

    it("replaces an inner layer's subject instead of stacking a second one", () => {
        const inner = new NoIdentityError("could not recover the data key", ["hint"]).about('"/tmp/x/secrets/a.yaml"')
        const outer = inner.about('"secrets/a.yaml"')
        expect(outer.message).toBe('"secrets/a.yaml": could not recover the data key')
        expect(inner.message).toBe('"/tmp/x/secrets/a.yaml": could not recover the data key')
    })

    it("keeps the class, so callers can still tell a tampered file from a missing key", () => {
        const tampered = new IntegrityError("MAC mismatch").about('"a.yaml"')
        expect(tampered).toBeInstanceOf(IntegrityError)
        expect(tampered.code).toBe(ExitCode.MacMismatch)
        expect(tampered.name).toBe("IntegrityError")
        expect(new NoIdentityError("no key").about("f")).toBeInstanceOf(NoIdentityError)
        expect(new FormatError("bad", [], ExitCode.InvalidTreePathFormat).about("f").code).toBe(ExitCode.InvalidTreePathFormat)
        expect(typeof tampered.stack).toBe("string")
    })
})
