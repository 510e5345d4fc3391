// A program that loads its secrets with the Node API of secrets-cli (ES module).
// From the root of a checkout, after `npm ci` (which builds dist/):
//
//   SOPS_AGE_KEY_FILE=examples/keys/web1.txt node examples/api/app.mjs
//
// It opens the demo fleet's secrets/shared/app.yaml with web1's PUBLIC demo key.
// It prints names and the length of the password, never a secret value: a
// program's output ends up in logs.
import { get, load, SecretsError } from "secrets-cli"

const file = process.argv[2] ?? "secrets/shared/app.yaml"

try {
    // Every value of the file, nested ones as database__password and so on, also
    // put into process.env (a variable the environment already has is kept).
    const values = await load({ files: file, flatten: true, into: process.env })
    console.log(`loaded: ${Object.keys(values).sort().join(" ")}`)
    console.log(`database: ${process.env.database__user}@${process.env.database__host}:${process.env.database__port}`)

    // One value by its key path, as `secrets decrypt --extract` names it.
    const password = await get(file, '["database"]["password"]')
    console.log(`password: ${password.length} characters`)
} catch (e) {
    // The CLI's message (never a value) and its exit code: 128 when no key opens the file.
    if (!(e instanceof SecretsError)) throw e
    console.error(`app: cannot load secrets: ${e.message}`)
    for (const hint of e.hints) console.error(`app: hint: ${hint}`)
    process.exitCode = e.code
}
