import { describe, expect, it } from "vitest";
import config from "../../vitest.config.js";

describe("the test runner's configuration", () => {
  it("never retries a failed test: a retry hides a flaky test instead of fixing it", () => {
    const projects = (config.test?.projects ?? []) as { test?: { name?: string; retry?: number } }[];
    expect(projects.length).toBeGreaterThan(0);
    expect(config.test?.retry).toBeUndefined();
    for (const p of projects) expect(p.test?.retry, p.test?.name).toBeUndefined();
  });
});
