import { execFileSync } from "node:child_process"
import { join } from "node:path"

/** End-to-end tests run the built binary, so build it once, fresh, before any test. */
export default function setup(): void {
    const root = join(import.meta.dirname, "..")
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], {
        cwd: root,
        stdio: "inherit",
    })
}
