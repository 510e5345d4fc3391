import { defineConfig } from "vitest/config"

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
    },
})
