// The stand-in's state: one JSON file (OP_STANDIN_STORE), read on every call and
// written atomically (temp file + rename) after each mutation, so a test can read it
// at any time and never sees half a file.
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { OpFail } from "./common.mjs"

/** Read the store named by OP_STANDIN_STORE. */
export function loadStore(env) {
    const path = env.OP_STANDIN_STORE
    if (!path) throw new OpFail("op stand-in: OP_STANDIN_STORE is not set")
    let text
    try {
        text = readFileSync(path, "utf8")
    } catch {
        throw new OpFail(`op stand-in: cannot read the store ${path}`)
    }
    const store = JSON.parse(text)
    store.vaults ??= []
    for (const v of store.vaults) v.items ??= []
    return store
}

/** Write the store back: temp file in the same directory, then rename over it. */
export function saveStore(env, store) {
    const path = env.OP_STANDIN_STORE
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`
    writeFileSync(tmp, JSON.stringify(store, null, 2) + "\n")
    renameSync(tmp, path)
}

/**
 * Vaults the caller can see. Service accounts cannot see Personal/Private/Employee
 * vaults (op-cli.md §6); the stand-in marks those with type PERSONAL or EMPLOYEE.
 */
export function visibleVaults(store, auth) {
    if (auth.mode !== "service_account") return store.vaults
    return store.vaults.filter((v) => v.type !== "PERSONAL" && v.type !== "EMPLOYEE")
}
