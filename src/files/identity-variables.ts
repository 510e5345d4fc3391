/**
 * The environment variables secrets reads identities from (identity-sources.ts).
 * Listed here, below the CLI, because more than the CLI needs them: the commands
 * that start programs remove them from the child's environment
 * (cli/identity-env.ts), and `secrets get` never answers a name from them
 * (run/get-value.ts), so that neither becomes a way to hand out the private key.
 * A test (env-safety.test.ts) checks that every variable identity-sources.ts
 * reads is here.
 */
export const IDENTITY_VARIABLES: readonly string[] = [
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
    "SOPS_AGE_SSH_PRIVATE_KEY_CMD",
    "SECRETS_AGE_KEY_OP",
]
