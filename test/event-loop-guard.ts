/**
 * A setup file (vitest.config.ts): fails a test file whose tests keep the worker's
 * event loop blocked for too long at a stretch.
 *
 * Why: the worker reports results to vitest's main process over an RPC whose calls
 * time out after 60 s, and the reply can only be read when the event loop turns.
 * Tests that run programs with spawnSync back to back never let it turn; the docs
 * examples did that for ~70 s on CI, and the run failed with
 * `[vitest-worker]: Timeout calling "onTaskUpdate"` although every test passed.
 * This guard names the file instead, well before that limit. Run programs with
 * test/helpers/process.ts (async) in long files.
 */
import { afterAll, beforeAll, expect } from "vitest"

/** A third of vitest's RPC timeout, so that a slower CI machine still fails here first. */
const MAX_BLOCKED_MS = 20_000
const TICK_MS = 250

let last = 0
let longest = 0
let timer: NodeJS.Timeout | undefined

beforeAll(() => {
    last = Date.now()
    timer = setInterval(() => {
        const now = Date.now()
        longest = Math.max(longest, now - last - TICK_MS)
        last = now
    }, TICK_MS)
})

afterAll(() => {
    clearInterval(timer)
    const now = Date.now()
    longest = Math.max(longest, now - last - TICK_MS)
    const file = expect.getState().testPath ?? "this file"
    if (longest > MAX_BLOCKED_MS) {
        throw new Error(
            `${file} blocked the worker's event loop for ${longest} ms at a stretch (limit ${MAX_BLOCKED_MS} ms): ` +
                "run programs with runProcess (test/helpers/process.ts) instead of spawnSync/execFileSync",
        )
    }
})
