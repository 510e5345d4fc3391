import { defineConfig } from "vitest/config"

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        globalSetup: ["test/global-setup.ts"],
        setupFiles: ["test/event-loop-guard.ts"],
        // Tests spawn real age, ssh-keygen and the built binary; 2 cores in CI.
        testTimeout: 30_000,
        hookTimeout: 60_000,
    },
})
