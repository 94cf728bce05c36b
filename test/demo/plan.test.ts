import { describe, expect, it } from "vitest";
import { DEMO_MIX, DEMO_SENDERS, demoMessage } from "../../scripts/demo/plan.js";
import { LAB_DOMAINS } from "../lab/lab.js";

describe("the demo's stuck queue", () => {
  const plan = Array.from({ length: 10_000 }, (_, i) => demoMessage(i));
  const single = (d: string) => plan.filter((m) => m.to.length === 1 && m.to[0]?.endsWith(`@${d}`)).length;

  it("spreads 10,000 messages over the causes in the documented shares", () => {
    for (const c of DEMO_MIX) expect(single(c.domain), c.domain).toBe(c.share * 100);
    const multi = plan.filter((m) => m.to.length > 1);
    expect(multi).toHaveLength(10_000 - DEMO_MIX.reduce((n, c) => n + c.share * 100, 0));
    expect(new Set(multi.flatMap((m) => m.to.map((r) => r.split("@")[1]))).size).toBe(2);
  });

  it("holds exactly the hold.lab.test messages", () => {
    expect(plan.filter((m) => m.hold).every((m) => m.to[0]?.endsWith(`@${LAB_DOMAINS.hold}`))).toBe(true);
    expect(plan.filter((m) => m.hold)).toHaveLength(single(LAB_DOMAINS.hold));
  });

  it("comes from several senders, the null sender of bounces among them, and stays on lab.test", () => {
    expect(new Set(plan.map((m) => m.from))).toEqual(new Set(DEMO_SENDERS));
    expect(DEMO_SENDERS).toContain("");
    expect(plan.every((m) => m.to.every((r) => r.endsWith(".lab.test")))).toBe(true);
  });
});
