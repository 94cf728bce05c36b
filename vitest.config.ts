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
