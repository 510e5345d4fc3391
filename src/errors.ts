/**
 * Errors and exit codes, in one place.
 *
 * Exit codes are sops's (cmd/sops/codes/codes.go, v3.13.2) so that scripts written
 * for sops keep working: 51 for a MAC mismatch, 25 for a value that does not
 * decrypt, 128 when no identity opens the data key, 200 when `edit` changed
 * nothing, and so on. Codes sops defines but never uses are left out.
 *
 * Messages never contain a secret value: they name files, key paths and recipients.
 */

export const ExitCode = {
    Ok: 0,
    Generic: 1,
    CouldNotReadInputFile: 2,
    CouldNotWriteOutputFile: 3,
    ErrorDumpingTree: 4,
    InvalidKmsEncryptionContextFormat: 6,
    InvalidSetFormat: 7,
    ConflictingParameters: 8,
    ErrorEncryptingMac: 21,
    ErrorEncryptingTree: 23,
    ErrorDecryptingTree: 25,
    CannotChangeKeysFromNonExistentFile: 49,
    MacMismatch: 51,
    InvalidTreePathFormat: 91,
    NeedAtLeastOneDocument: 92,
    NoFileSpecified: 100,
    DuplicateDecryptionKeyType: 112,
    CouldNotRetrieveKey: 128,
    FileHasNotBeenModified: 200,
    NoEditorFound: 201,
    FailedToCompareVersions: 202,
    FileAlreadyEncrypted: 203,
    /**
     * Not in sops's table: how a shell reports sops killed by SIGPIPE (128 + 13) when
     * the reader of its output goes away (`sops -d f | head`). Go dies of the signal;
     * Node ignores it, so we set the same status ourselves (files/io.ts).
     */
    BrokenPipe: 141,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * The one error type the program reports. `message` is a lowercase sentence with no
 * trailing period; `hints` are printed after it as `secrets: hint: …` lines.
 */
export class SecretsError extends Error {
    readonly code: ExitCode
    readonly hints: readonly string[]
    /** The message without the subject that {@link about} put in front of it. */
    readonly detail: string

    constructor(code: ExitCode, message: string, hints: readonly string[] = [], detail: string = message) {
        super(message)
        this.name = "SecretsError"
        this.code = code
        this.hints = hints
        this.detail = detail
    }

    /**
     * The same error with `subject` (usually a quoted file name) in front of the
     * message, replacing any subject an inner layer gave: a file's error passes
     * through layers that each name the file (the absolute path inside, the path as
     * the user wrote it outside), and one name reads better than `"a": "/x/a": …`.
     */
    about(subject: string): this {
        // A copy of the same class (an IntegrityError stays one), stack included.
        const e = Object.create(Object.getPrototypeOf(this) as object) as this
        Object.defineProperties(e, Object.getOwnPropertyDescriptors(this))
        Object.defineProperty(e, "message", { value: `${subject}: ${this.detail}`, writable: true, configurable: true })
        return e
    }
}

/** Input that is not what its format says: bad YAML, a malformed ENC string, bad metadata. */
export class FormatError extends SecretsError {
    constructor(message: string, hints: readonly string[] = [], code: ExitCode = ExitCode.Generic) {
        super(code, message, hints)
        this.name = "FormatError"
    }
}

/**
 * The file was changed by someone without the key: a MAC mismatch or a failed GCM
 * tag. The exit code says which check failed, as in sops (cmd/sops/common
 * DecryptTree): 51 for the MAC (or a MAC that cannot be decrypted), 25 for a value
 * whose tag fails ("Error decrypting tree").
 */
export class IntegrityError extends SecretsError {
    constructor(message: string, hints: readonly string[] = [], code: ExitCode = ExitCode.MacMismatch) {
        super(code, message, hints)
        this.name = "IntegrityError"
    }
}

/** No identity we have could recover the data key. */
export class NoIdentityError extends SecretsError {
    constructor(message: string, hints: readonly string[] = []) {
        super(ExitCode.CouldNotRetrieveKey, message, hints)
        this.name = "NoIdentityError"
    }
}

/** A `.sops.yaml` that cannot be used. */
export class ConfigError extends SecretsError {
    constructor(message: string, hints: readonly string[] = []) {
        super(ExitCode.Generic, message, hints)
        this.name = "ConfigError"
    }
}

/** Quote a path or key for a message the way age does: JSON string syntax. */
export function quote(s: string): string {
    return JSON.stringify(s)
}
