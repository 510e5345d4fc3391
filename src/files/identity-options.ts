/**
 * The flags that change where identities are looked for (`--age-key-op`,
 * `--config`, the file being opened), carried to node-identities.ts on the Io.
 * Defined here, below the CLI, because the identity lookup is a file service that
 * fleet operations use too; cli/options.ts re-exports it for the commands.
 */
/** What the identity lookup needs from a command's flags besides the environment. */
export interface IdentityOptions {
    readonly ageKeyOp?: readonly string[]
    /** `--config` / SOPS_CONFIG, for `secrets.age_key_op`. */
    readonly config?: string
    /** The file being opened: the config search starts at its directory. */
    readonly file?: string
}

const IDENTITY_OPTIONS = Symbol("identity options")

/**
 * The command context with its Io carrying {@link IdentityOptions} to
 * node-identities.ts. The Io is the channel because every decrypting path
 * (open-file, modify-file, updatekeys) already hands it down to the identity
 * lookup; a derived object (prototype = the original) keeps the lazy `stdin`
 * getter of nodeIo untouched.
 */
export function withIdentityOptions<C extends { readonly io: object }>(
    ctx: C,
    opts: { readonly ageKeyOp?: readonly string[]; readonly config?: string },
    file?: string,
): C {
    const io = Object.create(ctx.io) as C["io"]
    const value: IdentityOptions = {
        ...(opts.ageKeyOp !== undefined ? { ageKeyOp: opts.ageKeyOp } : {}),
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        ...(file !== undefined && file !== "-" ? { file } : {}),
    }
    Object.defineProperty(io, IDENTITY_OPTIONS, { value })
    return { ...ctx, io }
}

/** The options {@link withIdentityOptions} attached, or none. */
export function identityOptionsOf(io: object): IdentityOptions {
    return (io as { [IDENTITY_OPTIONS]?: IdentityOptions })[IDENTITY_OPTIONS] ?? {}
}
