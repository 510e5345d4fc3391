/**
 * The identity backup bundle of `secrets keys backup` / `keys restore` (issue 4 §7).
 *
 * On disk: an ASCII-armored age file encrypted with a passphrase (one `scrypt`
 * stanza), exactly what `age -p -a` writes, so Debian's `age -d` opens it with the
 * passphrase and no `secrets` at hand — a backup must outlive the tool.
 *
 * Inside (the payload, v1): an age key file, so the output of `age -d` can be used
 * directly as `age -i` or `SOPS_AGE_KEY_FILE`:
 *
 *     # secrets identity backup v1
 *     # created: 2025-01-02T03:04:05Z
 *     # source: /home/me/.config/sops/age/keys.txt
 *     <that key file's text, verbatim>
 *     # source: /path/of/another/--key-file
 *     <its text>
 *
 * Every line is a `#` comment, empty, or one identity, as age's key files are.
 * Nothing here touches the file system; the command does.
 */
import { Encrypter, armor } from "age-encryption"

import { ExitCode, FormatError, SecretsError } from "../errors.js"
import { identityToRecipientString, isPassphraseProtected, parseIdentities } from "../keys/identity-file.js"
import { isSshPrivateKey } from "../keys/ssh-parse.js"
import { PassphraseFileError, openPassphraseFile } from "../keys/passphrase-file.js"

/** The first line of every v1 payload. */
export const BACKUP_HEADER = "# secrets identity backup v1"

const SOURCE_PREFIX = "# source: "

/** One key file to put in the bundle: where it came from and its text. */
export interface BackupSource {
    readonly path: string
    readonly text: string
}

/**
 * The v1 payload for `sources`. Each source is checked to be a plain age key file
 * (not an SSH key, not itself passphrase-protected), so that a restore can always
 * read what a backup wrote. Throws FormatError naming the source, never a line.
 */
export function buildBackupPayload(sources: readonly BackupSource[], created: Date): string {
    const lines = [BACKUP_HEADER, `# created: ${created.toISOString().replace(/\.\d{3}Z$/, "Z")}`]
    for (const s of sources) {
        checkKeyFile(s.text, s.path)
        if (s.path.includes("\n")) throw new FormatError("a key file path contains a line break")
        lines.push(`${SOURCE_PREFIX}${s.path}`)
        const body = s.text.endsWith("\n") ? s.text.slice(0, -1) : s.text
        if (body !== "") lines.push(...body.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)))
    }
    return `${lines.join("\n")}\n`
}

function checkKeyFile(text: string, source: string): void {
    if (isSshPrivateKey(text)) {
        throw new FormatError(`${source} is an ssh private key, not an age key file`, [
            "back up ~/.ssh on its own, or derive an age key with `secrets keys generate --ssh FILE`",
        ])
    }
    if (isPassphraseProtected(text)) {
        throw new FormatError(`${source} is already passphrase-protected`, ["copy that file as it is: it is its own backup"])
    }
    // Throws on a malformed line, naming the source and the line number only.
    parseIdentities(text, source)
}

/** One identity of a payload with the comment lines right above it (`# created`, `# public key`). */
export interface BackupEntry {
    readonly identity: string
    readonly comments: readonly string[]
}

/**
 * The identities of a v1 payload, in order. A payload without the header line is
 * refused: it is not something `keys backup` wrote.
 */
export function parseBackupPayload(text: string, source = "backup"): BackupEntry[] {
    const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l))
    if (lines[0] !== BACKUP_HEADER) {
        throw new FormatError(`${source} is not a secrets identity backup (no v1 header)`)
    }
    // Validate every identity line first (line numbers, no content in messages).
    parseIdentities(text, source)
    const out: BackupEntry[] = []
    let comments: string[] = []
    for (const [i, line] of lines.entries()) {
        if (i < 2 && (line === BACKUP_HEADER || line.startsWith("# created: "))) continue
        if (line === "" || line.startsWith(SOURCE_PREFIX)) {
            comments = []
        } else if (line.startsWith("#")) {
            comments.push(line)
        } else {
            out.push({ identity: line, comments })
            comments = []
        }
    }
    return out
}

/** The result of {@link mergeIdentities}: the new key file text and the counts. */
export interface MergeResult {
    readonly text: string
    /** Recipients of the identities appended. */
    readonly added: readonly string[]
    /** How many of the backup's identities the key file already had. */
    readonly present: number
}

/**
 * Append to the key file `existing` the entries it lacks. The existing text is kept
 * byte for byte; an identity counts as present when the file has one with the same
 * recipient (an ssh-to-age key may be spelled clamped or not, both open the same
 * files), and a backup listing one identity twice adds it once.
 */
export async function mergeIdentities(existing: string, entries: readonly BackupEntry[], source = "key file"): Promise<MergeResult> {
    if (isPassphraseProtected(existing)) {
        throw new FormatError(`${source} is passphrase-protected, so identities cannot be added to it`, ["restore with --output to a new file"])
    }
    const have = new Set<string>()
    for (const id of parseIdentities(existing, source)) have.add(await identityToRecipientString(id))
    const added: string[] = []
    let present = 0
    let text = existing
    for (const e of entries) {
        const recipient = await identityToRecipientString(e.identity)
        if (have.has(recipient)) {
            present++
            continue
        }
        have.add(recipient)
        added.push(recipient)
        if (text !== "" && !text.endsWith("\n")) text += "\n"
        text += [...e.comments, e.identity].join("\n") + "\n"
    }
    return { text, added, present }
}

/** Encrypt a payload with a passphrase (age scrypt) and armor it. `logN` is for tests only. */
export async function sealBackup(payload: string, passphrase: string, logN?: number): Promise<string> {
    checkPassphrase(passphrase)
    const e = new Encrypter()
    e.setPassphrase(passphrase)
    if (logN !== undefined) e.setScryptWorkFactor(logN)
    return armor.encode(await e.encrypt(payload))
}

/**
 * Decrypt a backup file (armored or binary). A wrong passphrase is a SecretsError
 * with exit code 1; a file that is not passphrase-encrypted age is a FormatError.
 */
export async function openBackup(content: string | Uint8Array, passphrase: string, source = "backup"): Promise<string> {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content
    if (!isPassphraseProtected(bytes)) {
        throw new FormatError(`${source} is not a passphrase-encrypted age file`)
    }
    try {
        return await openPassphraseFile(bytes, passphrase)
    } catch (e) {
        if (!(e instanceof PassphraseFileError)) throw e
        switch (e.failure) {
            case "armor":
                throw new FormatError(`${source}: malformed age armor`)
            case "wrong-passphrase":
                throw new SecretsError(ExitCode.Generic, `${source}: incorrect passphrase`, ["nothing was written; try again with the passphrase used for the backup"])
            case "altered":
                throw new FormatError(`${source}: the backup was altered or is damaged`)
            case "work-factor":
                throw new FormatError(`${source}: scrypt work factor is too high`)
            default:
                throw new FormatError(`${source}: malformed passphrase-encrypted age file`)
        }
    }
}

/** An empty passphrase protects nothing; age itself would generate one instead. */
export function checkPassphrase(passphrase: string): void {
    if (passphrase === "") throw new SecretsError(ExitCode.Generic, "the passphrase is empty", ["choose a long passphrase and keep it apart from the backup"])
}

/** The two entries of a new passphrase must agree; a typo would lock the backup for good. */
export function confirmPassphrase(first: string, second: string): string {
    if (first !== second) throw new SecretsError(ExitCode.Generic, "the passphrases do not match: nothing written", ["run the command again and type the same passphrase twice"])
    checkPassphrase(first)
    return first
}
