/**
 * The child's environment for `secrets run` (issue 13 point 1), and the values
 * to conceal in its output.
 *
 * Layers, later ones winning (op run: an env file beats the shell, the last env
 * file wins): our environment (identity variables already removed by the
 * caller), with its placeholder variables resolved; then each `--file` in order;
 * then each `--env-file` in order. Every placeholder of every source is resolved
 * in one resolveReferences call before the command starts, so each file is
 * decrypted once and a placeholder that cannot be resolved fails the run with
 * nothing started.
 *
 * What is secret: every value taken from an encrypted file, and every value a
 * placeholder stood for. The literal text around placeholders in an env template
 * is not (`DB_URL=postgres://app:{{ …#["pw"] }}@db` conceals the password, not
 * the host), so a template's plain values stay readable in the log.
 */
import type { OpenedFile } from "../engine/open.js"
import { ExitCode, SecretsError, quote } from "../errors.js"
import type { Io } from "../files/io.js"
import { openInput, readInput } from "../files/open-file.js"
import { referenceKey, type TemplateReference } from "../delivery/template.js"
import { resolveReferences } from "../delivery/template-values.js"
import { formatForPath, loadStore } from "../stores/index.js"
import { environmentTemplates, parseEnvTemplate, type TemplateVariable } from "./env-template.js"
import { fileVariables } from "./file-variables.js"
import type { NamedValue } from "./github-mask.js"

export interface RunEnvironmentOptions {
    readonly files: readonly string[]
    readonly envFiles: readonly string[]
    readonly flatten: boolean
    /** Our environment as the child would inherit it. */
    readonly base: Readonly<Record<string, string>>
    readonly dangerous: (name: string) => string | undefined
    readonly onSkip: (file: string, name: string, why: string) => void
    /** How a `--file` is opened; by default openInput with the usual identities. */
    readonly open?: (file: string) => Promise<OpenedFile>
}

export interface RunEnvironment {
    readonly env: Record<string, string>
    /** The values to conceal, each with the variable it went into. */
    readonly secrets: NamedValue[]
}

export async function runEnvironment(io: Io, opts: RunEnvironmentOptions): Promise<RunEnvironment> {
    const fromEnv = environmentTemplates(opts.base)
    const fromEnvFiles: TemplateVariable[] = []
    for (const f of opts.envFiles) {
        const bytes = await readInput(io, f)
        let text: string
        try {
            text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes)
        } catch {
            throw new SecretsError(ExitCode.CouldNotReadInputFile, `${quote(f)} is not UTF-8 text`, ["an env template is a text file"])
        }
        fromEnvFiles.push(...parseEnvTemplate(text, f))
    }
    const refs: TemplateReference[] = [...fromEnv, ...fromEnvFiles].flatMap((v) => v.template.references)
    const values = refs.length === 0 ? new Map<string, string>() : await resolveReferences(io, refs, { baseDir: io.cwd })

    const env = Object.create(null) as Record<string, string>
    const secrets: NamedValue[] = []
    for (const [k, v] of Object.entries(opts.base)) env[k] = v
    const applyTemplates = (vars: readonly TemplateVariable[]): void => {
        for (const { name, template, skip } of vars) {
            env[name] = template.render(values).slice(skip)
            for (const ref of template.references) secrets.push({ name, value: values.get(referenceKey(ref))! })
        }
    }
    applyTemplates(fromEnv)

    const open = opts.open ?? (async (file: string) => openInput(io, file, await readInput(io, file), await loadStore(formatForPath(file)), {}))
    for (const file of opts.files) {
        try {
            const opened = await open(file)
            const vars = fileVariables(opened, {
                flatten: opts.flatten,
                dangerous: opts.dangerous,
                onSkip: (name, why) => opts.onSkip(file, name, why),
            })
            for (const { name, value } of vars) {
                env[name] = value
                secrets.push({ name, value })
            }
        } catch (e) {
            throw e instanceof SecretsError ? e.about(quote(file)) : e
        }
    }
    applyTemplates(fromEnvFiles)
    return { env, secrets }
}
