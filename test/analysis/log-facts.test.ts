import { describe, expect, it } from "vitest";
import { LogFactsAccumulator } from "../../src/analysis/log-facts.js";
import { MAILLOG_NOW, maillogLine, maillogLines } from "../helpers/maillog-fixtures.js";

const NOW = MAILLOG_NOW;
const lines = maillogLines;
const find = maillogLine;

describe("log facts from a real mixed relay's log", () => {
  const acc = new LogFactsAccumulator("/var/log/mail.log", NOW);
  for (const l of lines("maillog-mixed.txt")) acc.addLine(l);
  const f = acc.facts();

  it("counts new messages (cleanup) against removals (qmgr)", () => {
    // 182 messages from the standard scenario, the milter test's tries were refused before cleanup
    expect(f.newMessages).toBe(
      lines("maillog-mixed.txt").filter((l) => /cleanup\[\d+\]: \w+: message-id=/.test(l)).length,
    );
    expect(f.newMessages).toBeGreaterThanOrEqual(181);
    expect(f.removed).toBe(0);
  });

  it("knows, per destination, the class of its deferrals and where Postfix went", () => {
    const by = (d: string) => f.destinations.find((x) => x.domain === d);
    expect(by("refused.lab.test")).toMatchObject({ mainClass: "network" });
    expect(by("refused.lab.test")?.nextHops[0]).toMatch(/^127\.0\.0\.1\[127\.0\.0\.1\]:\d+$/);
    expect(by("throttle.lab.test")).toMatchObject({ mainClass: "remote-throttling" });
    expect(by("throttle.lab.test")?.nextHops[0]).toMatch(/^127\.0\.0\.1\[127\.0\.0\.1\]:\d+$/);
    expect(by("dnsfail.lab.test")).toMatchObject({ mainClass: "dns", nextHops: [] });
    expect(by("refused.lab.test")?.sampleQueueId).toMatch(/^[0-9A-F]{10,}$/);
    expect(f.destinations[0]?.domain).toBe("refused.lab.test");
  });

  it("keeps the milter lines, each wording once plus the latest", () => {
    const m = f.warnings.find((w) => w.kind === "milter");
    expect(m?.examples[0]).toMatch(
      /warning: connect to Milter service inet:127\.0\.0\.1:\d+: Connection refused$/,
    );
    expect(m?.subjects[0]).toMatch(/^inet:127\.0\.0\.1:\d+$/);
    expect(f.warnings.find((w) => w.kind === "milter-reject")?.count).toBeGreaterThan(0);
  });

  it("bounds memory by destinations, not lines", () => {
    const big = new LogFactsAccumulator("x", NOW);
    const tpl = find("maillog-mixed.txt", /user1@refused\.lab\.test.*status=deferred/);
    for (let i = 0; i < 6000; i++) big.addLine(tpl.replace("user1@refused.lab.test", `u@d${i}.test`));
    expect(big.facts(10_000).destinations.length).toBe(5000);
  });
});
