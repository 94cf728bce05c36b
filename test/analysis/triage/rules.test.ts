import { describe, expect, it } from "vitest";
import type { LogFacts } from "../../../src/analysis/log-facts.js";
import { buildSnapshot, type RelaySnapshot } from "../../../src/analysis/snapshot.js";
import { triageFacts } from "../../../src/analysis/triage/facts.js";
import { RULES, type TriageInput } from "../../../src/analysis/triage/index.js";
import { congestion } from "../../../src/analysis/triage/rules/congestion.js";
import { corruptFiles } from "../../../src/analysis/triage/rules/corrupt-files.js";
import { deferralClasses } from "../../../src/analysis/triage/rules/deferral-classes.js";
import { qmgr } from "../../../src/analysis/triage/rules/qmgr.js";
import { storage } from "../../../src/analysis/triage/rules/storage.js";
import type { WarningKind } from "../../../src/parsers/maillog-warnings.js";

const NOW = Date.UTC(2026, 10, 22, 12, 30, 0);
const proc = { masterPid: 1, qmgrPid: 2, qmgrUptimeS: 900, statusMessage: "" };
const healthy = { masterRunning: true, qmgrRunning: true, ...proc };

function snapshot(over: Partial<RelaySnapshot> = {}): RelaySnapshot {
  return {
    ...buildSnapshot({
      relay: "relay-x",
      takenAtMs: NOW,
      listingComplete: true,
      probeErrors: [],
      service: healthy,
    }),
    ...over,
  };
}

function log(over: Partial<LogFacts> = {}): LogFacts {
  return {
    source: "/var/log/mail.log",
    linesRead: 0,
    firstMs: null,
    lastMs: null,
    warnings: [],
    newMessages: 0,
    removed: 0,
    sent: 0,
    bounced: 0,
    expired: 0,
    deferred: 0,
    destinations: [],
    sampleLineByClass: {},
    bounces: { byCause: [], perMinute: [], notifications: 0, notificationsFailed: 0 },
    policyRefusals: [],
    smtpdRejects: [],
    ...over,
  };
}

const warning = (kind: WarningKind, examples: string[], subjects: string[] = []) => ({
  kind,
  count: examples.length,
  examples,
  subjects,
});

const facts = (over: Partial<TriageInput> = {}) =>
  triageFacts({ snapshot: snapshot(), log: null, dns: [], tcp: [], ...over });

const fullDisk = {
  path: "/var/spool/postfix",
  bytes: {
    filesystem: "/dev/sda1",
    total: 204800,
    used: 202752,
    usedPercent: 99,
    available: 2048,
    mountedOn: "/",
  },
  inodes: null,
  warning: true,
};

describe("triage rules, each on its own", () => {
  it("a healthy relay with nothing queued: no rule finds anything", () => {
    const f = facts();
    expect(RULES.flatMap((rule) => rule(f))).toEqual([]);
  });

  it("qmgr: a missing qmgr stops the relay; a full spool is named as its cause", () => {
    const service = { ...healthy, qmgrRunning: false, qmgrPid: undefined };
    const [alone] = qmgr(facts({ snapshot: snapshot({ service }) }));
    expect(alone).toMatchObject({ class: "config", share: 1, scope: "relay" });
    expect(alone?.title).toBe("qmgr is missing: the queue cannot drain");
    const [full] = qmgr(facts({ snapshot: snapshot({ service, disk: fullDisk }) }));
    expect(full?.title).toBe(
      "qmgr is missing: the queue cannot drain (the spool is full: Postfix cannot create its files)",
    );
    expect(full?.recommendation).toMatch(
      /^Free space and inodes on the spool first .* Then: qmgr is missing/,
    );
  });

  it("qmgr: master down, with what was checked (master.pid and the process table) as evidence", () => {
    const statusMessage = "master.pid names PID 4242, which is not running";
    const service = {
      ...healthy,
      masterRunning: false,
      masterPid: undefined,
      qmgrRunning: false,
      statusMessage,
    };
    const [down] = qmgr(facts({ snapshot: snapshot({ service }) }));
    expect(down?.title).toBe("Postfix's master is not running: nothing is delivered");
    expect(down?.evidence[0]).toBe(
      `${statusMessage} (the queue directory's pid/master.pid and ps -eo pid,ppid,etimes,comm,args)`,
    );
    expect(down?.evidence.join("\n")).not.toMatch(/postfix status/);
  });

  it("storage: df's warning or Postfix's own space lines, never neither", () => {
    expect(storage(facts())).toEqual([]);
    expect(storage(facts({ snapshot: snapshot({ disk: fullDisk }) }))[0]?.title).toBe(
      "The spool is nearly full (99% of its space used)",
    );
    const space = log({
      warnings: [warning("space", ["cleanup: warning: not enough free space in mail queue"])],
    });
    expect(storage(facts({ log: space }))[0]?.title).toBe("Postfix reports it cannot write queue files");
  });

  it("congestion: its own finding unless a deferral finding of its class covers the destination", () => {
    const line =
      "postfix/qmgr[9]: warning: mail for big.test is using up 20000 of 20000 active queue entries";
    const congested = log({
      warnings: [warning("congestion", [line], ["big.test"])],
      destinations: [
        {
          domain: "big.test",
          deferrals: 5,
          classes: { "remote-throttling": 5 },
          mainClass: "remote-throttling",
          nextHops: [],
          sampleQueueId: "3F1A61A0A1",
          sampleLine: "",
        },
      ],
    });
    const alone = facts({ log: congested, snapshot: snapshot({ recipients: 10, messages: 10 }) });
    expect(congestion(alone).map((x) => x.title)).toEqual(["Mail for big.test fills the active queue"]);

    const covered = facts({
      log: congested,
      snapshot: snapshot({
        recipients: 10,
        messages: 10,
        topReasons: [{ reason: "451 4.7.1 try again later", class: "remote-throttling", count: 10 }],
        topDomains: [{ domain: "big.test", count: 10 }],
      }),
    });
    expect(congestion(covered)).toEqual([]);
    const [deferrals] = deferralClasses(covered);
    expect(deferrals?.evidence).toContain(line);
    expect(deferrals?.recommendation).toContain("Lower big.test's concurrency or isolate it");
    expect(deferrals?.sampleQueueId).toBe("3F1A61A0A1");
  });

  it("dominant destination: named in the title only when it holds half the queue or more", () => {
    const reasons = [
      { reason: "connect to x[192.0.2.1]:25: Connection refused", class: "network" as const, count: 10 },
    ];
    const dests = (domains: string[]) =>
      log({
        destinations: domains.map((domain) => ({
          domain,
          deferrals: 1,
          classes: { network: 1 },
          mainClass: "network" as const,
          nextHops: [],
          sampleQueueId: "",
          sampleLine: "",
        })),
      });
    const title = (counts: [string, number][]) =>
      deferralClasses(
        facts({
          log: dests(counts.map(([d]) => d)),
          snapshot: snapshot({
            recipients: 10,
            topReasons: reasons,
            topDomains: counts.map(([domain, count]) => ({ domain, count })),
          }),
        }),
      )[0]?.title;
    expect(
      title([
        ["big.test", 8],
        ["small.test", 2],
      ]),
    ).toBe("The relay cannot connect to failing destinations: big.test holds 80% of the queue");
    expect(
      title([
        ["big.test", 4],
        ["small.test", 4],
      ]),
    ).toBe("The relay cannot connect to failing destinations");
  });

  it("corrupt files: the count set aside comes first, with the spool's path", () => {
    const [x] = corruptFiles(facts({ corruptFiles: 3, snapshot: snapshot({ disk: fullDisk }) }));
    expect(x?.evidence[0]).toBe(
      "3 file(s) in /var/spool/postfix/corrupt: set aside by Postfix, never delivered",
    );
    expect(corruptFiles(facts({ corruptFiles: 0 }))).toEqual([]);
  });
});
