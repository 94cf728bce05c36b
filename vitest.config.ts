import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          maxWorkers: 2,
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.int.test.ts", "test/**/*.pg.test.ts", "test/lab/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts", "test/lab/**/*.test.ts"],
          globalSetup: ["test/lab/global-setup.ts"],
          // Lab tests mostly wait on Postfix, sshd and the network; each file owns its relays,
          // so files run side by side even on two cores.
          maxWorkers: 4,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "postgres",
          maxWorkers: 2,
          include: ["test/**/*.pg.test.ts"],
          globalSetup: ["test/db/postgres-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
