import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogAccumulator } from "../../src/analysis/log-summary.js";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import { parseDeferral, parseLogLine } from "../../src/parsers/maillog.js";
import { parsePostconf, postfixSettings } from "../../src/parsers/postconf.js";
import { addressDomain, parsePostqueueJsonLine, type QueueEntry } from "../../src/parsers/postqueue.js";
import {
  type MasterPidFile,
  parseDfP,
  parseLoadavg,
  parsePidFile,
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

  it("takes each line's year from the reference it is given, one reference after another", () => {
    const line = "Jun  1 12:00:00 mx postfix/smtp[1]: x";
    const years = [2027, 2025, 2025, 2027].map((y) => {
      const p = parseLogLine(line, Date.UTC(y, 6, 1));
      return new Date(p?.timeMs ?? 0).getUTCFullYear();
    });
    expect(years).toEqual([2027, 2025, 2025, 2027]);
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

  it("reads iowait and the load average", () => {
    expect(parseVmstatIowait(read("relay-a", "vmstat.txt"))).toBe(0);
    expect(parseLoadavg(read("relay-a", "loadavg.txt"))).toEqual({ load1: 4, load5: 1.34, load15: 0.58 });
  });
});

describe("master and qmgr from master.pid and the process table", () => {
  // The whole host when captured: relay-a and other labs' instances, each a master with its qmgr.
  const ps = parsePs(read("relay-a", "ps.txt"));
  // relay-a's own master, as `postfix status` named it under a terminal at that moment.
  const master = Number(/is running: PID: (\d+)/.exec(read("relay-a", "postfix-status-tty.txt"))?.[1]);
  const masters = ps.filter((p) => p.comm === "master");
  const others = new Set(masters.filter((p) => p.pid !== master).map((p) => p.pid));
  const qmgrOf = (pid: number) => ps.find((p) => p.ppid === pid && p.comm === "qmgr");
  // master writes its PID right-aligned in 32 columns, then a newline.
  const pidFile = (pid: number): MasterPidFile => ({
    found: true,
    pid: parsePidFile(`${String(pid).padStart(32)}\n`),
  });

  it("the capture has several instances, relay-a's master among them with a qmgr child", () => {
    expect(masters.map((p) => p.pid)).toContain(master);
    expect(others.size).toBeGreaterThan(0);
    expect(qmgrOf(master)).toBeDefined();
  });

  it("reads master.pid as master writes it; nothing else is a PID", () => {
    expect(parsePidFile(`${" ".repeat(28)}9198\n`)).toBe(9198);
    expect(parsePidFile("")).toBeUndefined();
    expect(parsePidFile("0\n")).toBeUndefined();
    expect(parsePidFile("91 98\n")).toBeUndefined();
  });

  it("running: master.pid names a live master, and qmgr is its child, not another instance's", () => {
    const h = serviceHealth(ps, pidFile(master));
    const q = qmgrOf(master);
    expect(h).toEqual({
      masterRunning: true,
      masterPid: master,
      qmgrRunning: true,
      qmgrPid: q?.pid,
      qmgrUptimeS: q?.elapsedS,
      statusMessage: `master PID ${master} running (master.pid), qmgr PID ${q?.pid}`,
    });
  });

  it("qmgr missing: master runs with no qmgr child, though other instances' qmgrs run", () => {
    const noQmgr = ps.filter((p) => p !== qmgrOf(master));
    expect(noQmgr.some((p) => p.comm === "qmgr")).toBe(true);
    expect(serviceHealth(noQmgr, pidFile(master))).toMatchObject({
      masterRunning: true,
      masterPid: master,
      qmgrRunning: false,
      qmgrPid: undefined,
      statusMessage: `master PID ${master} running (master.pid), no qmgr child`,
    });
  });

  it("stale master.pid: after postfix stop it still names the PID, which is gone: master down", () => {
    const stopped = ps.filter((p) => p.pid !== master && p.ppid !== master);
    expect(serviceHealth(stopped, pidFile(master))).toEqual({
      masterRunning: false,
      masterPid: undefined,
      qmgrRunning: false,
      qmgrPid: undefined,
      qmgrUptimeS: undefined,
      statusMessage: `master.pid names PID ${master}, which is not running`,
    });
  });

  it("master.pid naming a master that has exited but is not yet reaped (<defunct>): master down", () => {
    const zombie = ps
      .filter((p) => p.ppid !== master)
      .map((p) => (p.pid === master ? { ...p, args: "[master] <defunct>" } : p));
    expect(serviceHealth(zombie, pidFile(master))).toMatchObject({
      masterRunning: false,
      qmgrRunning: false,
      statusMessage: `master.pid names PID ${master}, which has exited (defunct)`,
    });
  });

  it("master.pid naming a live process that is not a master (a reused PID): master down", () => {
    const q = qmgrOf(master);
    if (!q) throw new Error("no qmgr in the capture");
    expect(serviceHealth(ps, pidFile(q.pid))).toMatchObject({
      masterRunning: false,
      qmgrRunning: false,
      statusMessage: `master.pid names PID ${q.pid}, which is qmgr, not master`,
    });
    expect(serviceHealth(ps, pidFile(2))?.statusMessage).toBe(
      "master.pid names PID 2, which is kthreadd, not master",
    );
  });

  it("no master.pid, or none named in it: master down, whatever other masters run", () => {
    expect(serviceHealth(ps, { found: false })).toMatchObject({
      masterRunning: false,
      qmgrRunning: false,
      statusMessage: "no master.pid in the queue directory",
    });
    expect(serviceHealth(ps, { found: true, pid: parsePidFile("") })).toMatchObject({
      masterRunning: false,
      statusMessage: "master.pid names no PID",
    });
  });

  it("master.pid unread (no root) and one master on the host: that master, with or without qmgr", () => {
    const lone = ps.filter((p) => !others.has(p.pid) && !others.has(p.ppid));
    expect(serviceHealth(lone)).toMatchObject({
      masterRunning: true,
      masterPid: master,
      qmgrRunning: true,
      qmgrPid: qmgrOf(master)?.pid,
      statusMessage: `master PID ${master} running (the only master; master.pid unread), qmgr PID ${qmgrOf(master)?.pid}`,
    });
    expect(serviceHealth(lone.filter((p) => p !== qmgrOf(master)))).toMatchObject({
      masterRunning: true,
      qmgrRunning: false,
    });
  });

  it("master.pid unread and several masters: unknown, not down (any may be another instance's)", () => {
    expect(serviceHealth(ps)).toBeUndefined();
  });

  it("master.pid unread and no master at all: down", () => {
    const none = ps.filter((p) => p.comm !== "master");
    expect(serviceHealth(none)).toMatchObject({
      masterRunning: false,
      qmgrRunning: false,
      statusMessage: "no master process running (master.pid unread)",
    });
  });
});
