import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Family, families, scrapeEveryFamily } from "./families.js";

const baseline = JSON.parse(
  readFileSync(new URL("./fixtures/metrics-families.json", import.meta.url), "utf8"),
) as Record<string, Family>;

describe("/metrics keeps every family scrapers and dashboards rely on", () => {
  it("each recorded family: same name, type, help, labels and buckets", async () => {
    const served = families(await scrapeEveryFamily());
    expect(Object.keys(baseline)).toHaveLength(7);
    for (const [name, f] of Object.entries(baseline)) expect(served[name], name).toEqual(f);
  });
});
