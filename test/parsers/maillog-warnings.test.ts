import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseLogLine } from "../../src/parsers/maillog.js";
import {
  classifyWarning,
  congestedDestination,
  LogFactsAccumulator,
} from "../../src/parsers/maillog-warnings.js";

const FIX = join(__dirname, "../triage/fixtures");
const NOW = Date.UTC(2026, 10, 22, 14, 0, 0);
const lines = (f: string) => readFileSync(join(FIX, f), "utf8").split("\n").filter(Boolean);
const find = (f: string, re: RegExp) => {
  const l = lines(f).find((x) => re.test(x));
  if (!l) throw new Error(`no line matching ${re} in ${f}`);
  return l;
};

describe("Postfix's own warnings", () => {
  // Lines a real Postfix 3.7 wrote in the lab (test/triage/fixtures, captured by triage.int.test.ts).
  it.each([
    ["maillog-milter.txt", /connect to Milter service/, "milter"],
    ["maillog-milter.txt", /milter-reject: CONNECT/, "milter-reject"],
    ["maillog-spool.txt", /not enough free space in mail queue/, "space"],
    ["maillog-spool.txt", /452 4\.3\.1 Insufficient system storage/, "space"],
    ["maillog-spool.txt", /showq.*fatal: open lock file .*No space left on device/, "space"],
    ["maillog-spool.txt", /warning: process \/usr\/lib\/postfix\/sbin\/showq pid \d+ exit status 1/, "fatal"],
    ["maillog-spool.txt", /resolv\.conf and \/etc\/resolv\.conf differ/, undefined],
    ["maillog-mixed.txt", /status=deferred \(connect to/, undefined],
    ["maillog-mixed.txt", /said: 451 4\.7\.1/, undefined],
    ["maillog-mixed.txt", /postfix-script\[\d+\]: starting the Postfix mail system/, undefined],
  ])("%s: a line matching %s is %s", (file, re, kind) => {
    const line = parseLogLine(find(file, re), NOW);
    expect(line).toBeDefined();
    expect(line && classifyWarning(line)).toBe(kind);
  });

  // Not reproduced in the lab: the exact wording of Postfix 3.7's format strings
  // (qmgr_message.c, master_spawn.c, qmgr_active.c, cleanup_out.c, tlsproxy/policy clients).
  it.each([
    [
      "postfix/qmgr[9]: warning: mail for example.com is using up 20000 of 20000 active queue entries",
      "congestion",
    ],
    [
      'postfix/master[9]: warning: service "smtp" (25) has reached its process limit "100": new clients may experience noticeable delays',
      "process-limit",
    ],
    ["postfix/qmgr[9]: warning: saved corrupted queue file as corrupt/3F1A61A0A1", "corruption"],
    ["postfix/cleanup[9]: warning: 3F1A61A0A1: queue file write error", "write-error"],
    ["postfix/smtpd[9]: warning: problem talking to server 127.0.0.1:10023: Connection refused", "policy"],
    [
      "postfix/qmgr[9]: fatal: open lock file pid/unix.qmgr: cannot create file exclusively: Permission denied",
      "fatal",
    ],
  ])("reads %s as %s", (msg, kind) => {
    const line = parseLogLine(`Nov 22 11:00:00 mx ${msg}`, NOW);
    expect(line && classifyWarning(line)).toBe(kind);
  });

  it("names the congested destination", () => {
    expect(
      congestedDestination("warning: mail for example.com is using up 20000 of 20000 active queue entries"),
    ).toBe("example.com");
  });
});

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
