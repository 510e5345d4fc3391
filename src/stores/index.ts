/**
 * Store lookup by format. Each store is imported only when a file of its format is
 * read or written, so decrypting a JSON file never loads the YAML parser.
 */
import type { Format, Store, StoreOptions } from "./store.js"

export async function loadStore(format: Format, opts: StoreOptions = {}): Promise<Store> {
    switch (format) {
        case "yaml":
            return (await import("./yaml.js")).createYamlStore(opts)
        case "json":
            return (await import("./json.js")).createJsonStore(opts)
        case "dotenv":
            return (await import("./dotenv.js")).createDotenvStore()
        case "ini":
            return (await import("./ini.js")).createIniStore()
        case "binary":
            return (await import("./binary.js")).createBinaryStore(opts)
    }
}

export { formatForPath, FORMATS, type Format, type Store, type StoreOptions } from "./store.js"
