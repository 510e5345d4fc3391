// A worker thread that runs main() (src/main.ts, built) on one mutated case at a
// time, with its streams in buffers. The campaign terminates a worker that does not
// answer in time (a hang) and replaces one that dies (an uncaught exception, which
// the binary would print as a stack trace).
import { parentPort, workerData } from "node:worker_threads"
import { bufferIo } from "./common.mjs"

const { main } = await import(workerData.mainUrl)

parentPort.on("message", async (task) => {
    const b = bufferIo({ cwd: task.cwd, env: task.env, input: task.input === undefined ? undefined : Buffer.from(task.input, "utf8") })
    const start = performance.now()
    let code = null
    let thrown
    try {
        code = await main(task.argv, b.io)
    } catch (e) {
        // main() reports every error itself; reaching here is a bug in main.
        thrown = e instanceof Error ? e.name : typeof e
    }
    parentPort.postMessage({ id: task.id, code, thrown, stdout: b.stdout(), stderr: b.stderr(), ms: performance.now() - start })
})
parentPort.postMessage({ ready: true })
