/**
 * The Node API of `secrets-cli` (issue 13 §7): `import { load, get } from "secrets-cli"`.
 *
 * This entry point loads none of the CLI's modules (no commander, no commands):
 * it sits at the CLI's rank and imports the file services below it
 * (test/unit/layers.test.ts checks that nothing here imports src/cli, and
 * test/e2e/api-package.test.ts that a program importing the package loads
 * nothing from dist/cli/). Errors are the CLI's: a SecretsError with the same
 * message and its sops exit code in `code`, never a value.
 */
export { load, get } from "./load.js"
export type { GetOptions, IoOptions, LoadOptions } from "./options.js"
export { ExitCode, SecretsError, NoIdentityError, IntegrityError, FormatError, ConfigError } from "../errors.js"
