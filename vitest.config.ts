import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Most files wait on Postfix, sshd, PostgreSQL or a child process rather than compute, and
    // each owns what it changes: four run side by side even on two cores.
    maxWorkers: 4,
    projects: [
      {
        test: {
          name: "unit",
          // One module graph per worker rather than per file: importing src/ afresh for each of some
          // eighty files was two thirds of this project's time. The code under test keeps no state
          // between calls that a file could leave behind (metrics registries, stores and pools are
          // made per test), and each file cleans up what it patches (nock).
          isolate: false,
          // A guard against a hang, not a speed limit: CI runs these beside two CPU burners.
          testTimeout: 30_000,
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.int.test.ts", "test/**/*.pg.test.ts", "test/lab/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts", "test/lab/**/*.test.ts"],
          globalSetup: ["test/lab/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "postgres",
          include: ["test/**/*.pg.test.ts"],
          globalSetup: ["test/db/postgres-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
