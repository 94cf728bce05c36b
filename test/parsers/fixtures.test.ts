import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogAccumulator } from "../../src/analysis/log-summary.js";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import { parseDeferral, parseLogLine } from "../../src/parsers/maillog.js";
import { parsePostconf, postfixSettings } from "../../src/parsers/postconf.js";
import { addressDomain, parsePostqueueJsonLine, type QueueEntry } from "../../src/parsers/postqueue.js";
import {
  parseDfP,
  parseLoadavg,
  parsePidFile,
  parsePostfixStatus,
  parsePs,
  parseVmstatIowait,
  serviceHealth,
} from "../../src/parsers/system.js";

// Output captured from the lab's real Postfix (test/lab/capture-fixtures.ts).
const FIX = join(import.meta.dirname, "../fixtures");
const read = (relay: string, file: string) => readFileSync(join(FIX, relay, file), "utf8");
const CAPTURED_AT = Date.UTC(2026, 10, 22, 12, 7, 0);

function entries(relay: string): QueueEntry[] {
  return read(relay, "postqueue-j.jsonl")
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const r = parsePostqueueJsonLine(l);
      if (!r.ok) throw new Error(`${relay}: ${r.error}: ${l}`);
      return r.value;
    });
}

describe.each(["relay-a", "relay-long-ids"])("postqueue -j from %s", (relay) => {
  const all = entries(relay);

  it("parses every line, queue IDs of either form", () => {
    expect(all).toHaveLength(181);
    const idShape =
      relay === "relay-long-ids" ? /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{12,}$/ : /^[0-9A-F]{8,12}$/;
    for (const e of all) expect(e.queueId).toMatch(idShape);
  });

  it("folds the standard scenario: one row per cause, counts per recipient", () => {
    const acc = new QueueAccumulator(CAPTURED_AT / 1000);
    for (const e of all) acc.add(e);
    const s = acc.summary();
    expect(s.messages).toBe(181);
    expect(s.queues).toEqual({ maildrop: 0, incoming: 0, active: 0, deferred: 171, hold: 10 });
    const byClass = Object.fromEntries(s.reasons.map((r) => [r.class, r.count]));
    // 120 + the 3-domain message + 10 held, all routed to the closed port
    expect(byClass).toEqual({ network: 131, "remote-throttling": 31, dns: 21 });
    expect(s.reasons).toHaveLength(3);
    expect(s.domains).toEqual([
      { domain: "refused.lab.test", count: 121 },
      { domain: "throttle.lab.test", count: 31 },
      { domain: "dnsfail.lab.test", count: 21 },
      { domain: "hold.lab.test", count: 10 },
    ]);
    const recipients = all.reduce((n, e) => n + e.recipients.length, 0);
    expect(s.recipients).toBe(recipients);
    expect(s.reasons.reduce((n, r) => n + r.count, 0)).toBe(recipients);
  });

  it("counts domains from addresses exactly as Postfix lists them", () => {
    const domains = new Set(all.flatMap((e) => e.recipients.map((r) => addressDomain(r.address))));
    expect([...domains].sort()).toEqual([
      "dnsfail.lab.test",
      "hold.lab.test",
      "refused.lab.test",
      "throttle.lab.test",
    ]);
  });
});

describe("postqueue -j refusals", () => {
  it.each([
    ["not JSON", "-- 18451 Kbytes in 392 Requests."],
    ["an array", "[1,2]"],
    ["no queue_id", '{"queue_name":"deferred"}'],
    ["a hostile queue_id", '{"queue_name":"deferred","queue_id":"A1B2;rm -rf /"}'],
  ])("rejects %s", (_l, line) => {
    expect(parsePostqueueJsonLine(line).ok).toBe(false);
  });
});

describe("the mail log (maillog_file, RFC 3164 stamps)", () => {
  const lines = read("relay-a", "maillog.txt").split("\n").filter(Boolean);

  it("parses every line, with multi-part syslog tags", () => {
    const parsed = lines.map((l) => parseLogLine(l, CAPTURED_AT));
    expect(parsed.every(Boolean)).toBe(true);
    const programs = new Set(parsed.map((p) => p?.program));
    expect(programs).toContain("postfix/relay/smtp");
    expect(parsed.find((p) => p?.program === "postfix/relay/smtp")?.service).toBe("smtp");
  });

  it("finds every status=deferred line, from postfix/smtp and postfix/error alike", () => {
    const defs = lines.flatMap((l) => {
      const p = parseLogLine(l, CAPTURED_AT);
      const d = p && parseDeferral(p);
      return d ? [d] : [];
    });
    expect(defs).toHaveLength(lines.filter((l) => l.includes("status=deferred")).length);
    expect(new Set(defs.map((d) => d.program))).toEqual(
      new Set(["postfix/smtp", "postfix/error", "postfix/relay/smtp"]),
    );
    expect(defs.find((d) => d.dsn === "4.4.3")?.reason).toMatch(/^Host or domain name not found/);
  });

  it("summarises the last hour into causes", () => {
    const acc = new LogAccumulator("maillog", CAPTURED_AT);
    for (const l of lines) acc.addLine(l);
    const s = acc.summary();
    expect(s.deferrals).toBe(lines.filter((l) => l.includes("status=deferred")).length);
    expect(s.reasons.map((r) => r.class).sort()).toEqual(["dns", "network", "remote-throttling"]);
  });

  // The same captured lines as journald (short-iso), rsyslog (RFC 3339) and another syslog_name write them.
  it.each([
    [
      "RFC 3339 with fraction",
      (l: string) => l.replace(/^Nov 22 (\d\d:\d\d:\d\d)/, "2026-11-22T$1.123456+00:00"),
    ],
    ["journald short-iso", (l: string) => l.replace(/^Nov 22 (\d\d:\d\d:\d\d)/, "2026-11-22T$1+0000")],
    ["syslog_name postfix-out", (l: string) => l.replace(" postfix/", " postfix-out/")],
    ["submission service tag", (l: string) => l.replace(" postfix/smtp[", " postfix/submission/smtp[")],
  ])("reads %s stamps and tags alike", (_l, rewrite) => {
    const line = lines.find((l) => l.includes("postfix/smtp[") && l.includes("status=deferred")) as string;
    const p = parseLogLine(rewrite(line), CAPTURED_AT);
    expect(p).toBeDefined();
    const d = parseDeferral(p as NonNullable<typeof p>);
    expect(d?.queueId).toMatch(/^[0-9A-F]+$/);
    expect(new Date(p?.timeMs ?? 0).toISOString().slice(0, 16)).toBe("2026-11-22T12:06");
  });

  it("reads long queue IDs in log lines", () => {
    const long = read("relay-long-ids", "maillog.txt")
      .split("\n")
      .filter((l) => l.includes("status=deferred"));
    expect(long.length).toBeGreaterThan(0);
    for (const l of long) {
      const p = parseLogLine(l, CAPTURED_AT);
      expect(p && parseDeferral(p)?.queueId).toMatch(/^[0-9A-Za-z]{12,}$/);
    }
  });

  it("places a December line read in January in the year before", () => {
    const p = parseLogLine("Dec 31 23:59:59 mx postfix/smtp[1]: x", Date.UTC(2027, 0, 1, 0, 5));
    expect(new Date(p?.timeMs ?? 0).getUTCFullYear()).toBe(2026);
  });
});

describe("system probes", () => {
  it("reads postconf, including values that refer to other parameters", () => {
    const v = parsePostconf(read("relay-a", "postconf.txt"));
    const s = postfixSettings(v);
    expect(s.queueDirectory).toMatch(/\/relay-a\/queue$/);
    expect(s.maillogFile).toMatch(/\/relay-a\/maillog$/);
    expect(s.maximalQueueLifetimeS).toBe(5 * 86400);
    expect(s.concurrency.smtp_destination_concurrency_limit).toBe("$default_destination_concurrency_limit");
  });

  it("reads df -P bytes and inodes", () => {
    const b = parseDfP(read("relay-a", "df-P.txt"), 1024);
    const i = parseDfP(read("relay-a", "df-i.txt"), 1);
    expect(b).toMatchObject({
      filesystem: "/dev/vda",
      total: 264212084 * 1024,
      usedPercent: 22,
      mountedOn: "/",
    });
    expect(i).toMatchObject({ total: 16777216, used: 417112, usedPercent: 3 });
  });

  it("finds this instance's master and its qmgr among other instances", () => {
    const ps = parsePs(read("relay-a", "ps.txt"));
    const status = parsePostfixStatus(read("relay-a", "postfix-status-tty.txt"), 0);
    expect(status.masterPid).toBeGreaterThan(0);
    const h = serviceHealth(status, ps);
    expect(h).toMatchObject({ masterRunning: true, masterPid: status.masterPid, qmgrRunning: true });
    expect(ps.find((p) => p.pid === h.qmgrPid)?.ppid).toBe(status.masterPid);
    // the same from the pid file when status prints nothing (no terminal)
    const quiet = parsePostfixStatus(read("relay-a", "postfix-status.txt"), 0);
    expect(serviceHealth(quiet, ps, parsePidFile(`   ${status.masterPid}\n`)).qmgrRunning).toBe(true);
  });

  it("says master is down when postfix status exits 1, whatever the pid file says", () => {
    const ps = parsePs(read("relay-a", "ps.txt"));
    const stopped = parsePostfixStatus(read("relay-a", "postfix-status-stopped.txt"), 1);
    const somePid = ps.find((p) => p.comm === "master")?.pid;
    expect(serviceHealth(stopped, ps, somePid)).toMatchObject({ masterRunning: false, qmgrRunning: false });
  });

  it("reads iowait and the load average", () => {
    expect(parseVmstatIowait(read("relay-a", "vmstat.txt"))).toBe(0);
    expect(parseLoadavg(read("relay-a", "loadavg.txt"))).toEqual({ load1: 4, load5: 1.34, load15: 0.58 });
  });
});
