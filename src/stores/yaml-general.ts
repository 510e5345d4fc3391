/**
 * The general YAML reader (the `yaml` package's lexer, parser and composer, and our
 * typing in yaml-parse.ts), behind a function so that it can be loaded on first use.
 *
 * Why: a small decrypt of a file in the emitter's own shape needs none of it
 * (yaml.ts reads such files with yaml-canonical.ts), and initialising the `yaml`
 * package and parsing with its code run cold was ~9 ms of a ~55 ms decrypt, the
 * whole gap between a YAML and a JSON decrypt (issue 14 target 2).
 *
 * Here, in ES modules (dist/, vitest), it is a static import: Node 20 has no
 * synchronous way to load an ES module later, and the store's parse is synchronous.
 * scripts/bundle.mjs replaces this module in its bundles with one that require()s
 * yaml-parse.js inside generalYaml(), which esbuild turns into a module wrapper run
 * on that first call; the build fails if this file exports anything else.
 */
import * as yamlParse from "./yaml-parse.js"

/** yaml-parse.ts, loaded (in the bundles) on the first call. */
export function generalYaml(): typeof yamlParse {
    return yamlParse
}
