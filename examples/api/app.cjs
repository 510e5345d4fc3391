// The same program as app.mjs, as CommonJS: require("secrets-cli").
//
//   SOPS_AGE_KEY_FILE=examples/keys/web1.txt node examples/api/app.cjs
"use strict"
const { get, load, SecretsError } = require("secrets-cli")

async function main() {
    const file = process.argv[2] ?? "secrets/shared/app.yaml"
    try {
        const values = await load({ files: file, flatten: true, into: process.env })
        console.log(`loaded: ${Object.keys(values).sort().join(" ")}`)
        console.log(`database: ${process.env.database__user}@${process.env.database__host}:${process.env.database__port}`)
        const password = await get(file, '["database"]["password"]')
        console.log(`password: ${password.length} characters`)
    } catch (e) {
        if (!(e instanceof SecretsError)) throw e
        console.error(`app: cannot load secrets: ${e.message}`)
        for (const hint of e.hints) console.error(`app: hint: ${hint}`)
        process.exitCode = e.code
    }
}

main()
