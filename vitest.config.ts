import { availableParallelism } from "node:os"
import { relative, sep } from "node:path"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

/**
 * Files that spawn the built binary, age, shells and tmux, one after another: the
 * long ones (docs-examples, revoke-rotate, locks, the completion shells). They
 * start first, so that the run does not end with one of them alone on a worker
 * while the other worker has nothing left (a fresh clone, as CI runs, has no
 * timings from an earlier run to sort by).
 */
const SPAWNING_DIRS = ["e2e", "soak", "interop", "engine"]

/**
 * The one file several times longer than any other (every runnable docs block: ~300
 * bash runs of the binary, ~85 s of the ~10 min idle run): first of all, so that it
 * overlaps the rest instead of ending the run. A file that grows as long should be
 * named here too; a name that no longer exists is ignored.
 */
const LONGEST_FIRST = ["test/e2e/docs-examples.test.ts"]

class SpawningFilesFirst extends BaseSequencer {
    override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
        // The base order: the last run's durations, longest first, when vitest has them
        // (node_modules/.vite), else the largest file first. Kept within each group.
        const base = await super.sort(files)
        const path = (f: TestSpecification) => relative(this.ctx.config.root, f.moduleId).split(sep).join("/")
        const rank = (f: TestSpecification) => (LONGEST_FIRST.includes(path(f)) ? 0 : SPAWNING_DIRS.includes(path(f).split("/")[1] ?? "") ? 1 : 2)
        // Array.prototype.sort is stable: the base order stays within each rank.
        return base.sort((a, b) => rank(a) - rank(b))
    }
}

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        globalSetup: ["test/global-setup.ts"],
        setupFiles: ["test/event-loop-guard.ts"],
        // Tests spawn real age, ssh-keygen and the built binary on 2 cores that other
        // work loads too. A timeout here only catches hangs, never slowness (issue 10
        // §16): speed is measured by `npm run bench`.
        testTimeout: 120_000,
        hookTimeout: 60_000,
        // Vitest's default is one worker per core minus one: a single worker on the
        // 2-core CI machine, where a test file mostly waits for the programs it
        // spawns, so the run used less than one core (/usr/bin/time on a whole run:
        // 474 s of CPU in 957 s). Two files at once keep both cores busy; every test works in
        // its own temp dir, tmux socket and key files, and the go-yaml oracle builds
        // into place atomically (test/oracle/go-yaml/oracle.ts), so files do not meet.
        maxWorkers: Math.max(2, availableParallelism() - 1),
        minWorkers: 1,
        sequence: { sequencer: SpawningFilesFirst },
    },
})
