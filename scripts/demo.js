#!/usr/bin/env node
// `npm run demo`: make a throwaway age key, encrypt examples/app.yaml to it in the
// sops format, print the encrypted file, then decrypt it again and print that.
// Nothing is written to disk.
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { generateX25519Identity } from "../dist/keys/age.js"
import { loadStore } from "../dist/stores/index.js"
import { encryptNew } from "../dist/engine/seal.js"
import { openEncrypted } from "../dist/engine/open.js"

const example = fileURLToPath(new URL("../examples/app.yaml", import.meta.url))
const { identity, recipient } = await generateX25519Identity()
const store = await loadStore("yaml")

const plaintext = await readFile(example)
const encrypted = await encryptNew(store.parsePlain(plaintext), store, { groups: [[recipient]] }, new Date())
process.stdout.write(`# a throwaway key for this demo: ${recipient}\n`)
process.stdout.write(`# examples/app.yaml, encrypted:\n\n`)
process.stdout.write(Buffer.from(encrypted))

const opened = await openEncrypted(encrypted, store, [identity])
process.stdout.write(`\n# and decrypted again with the key (MAC verified):\n\n`)
process.stdout.write(Buffer.from(store.emitPlain(opened.branches)))
