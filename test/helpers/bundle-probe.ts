/**
 * A script for `node -r`: it patches vm.Script before bin/secrets.cjs takes it and
 * appends the file name of each bundle compiled to $PROBE_OUT, so a test can tell
 * which bundle answered a command line (the fast paths' tests).
 */
export const BUNDLE_PROBE = `const vm = require("node:vm"), fs = require("node:fs"), path = require("node:path")
const Script = vm.Script
vm.Script = class extends Script {
    constructor(source, options) {
        super(source, options)
        fs.appendFileSync(process.env.PROBE_OUT, path.basename(options.filename) + "\\n")
    }
}
`
