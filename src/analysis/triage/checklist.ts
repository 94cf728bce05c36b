import type { LogFacts } from "../log-facts.js";
import type { RelaySnapshot } from "../snapshot.js";
import { bounceRates, bounceStormFinding } from "./rules/bounce-storm.js";
import { DAY_MS } from "./rules/shared.js";
import type { Check, TriageInput } from "./types.js";

/** Checklist A, step by step as run, then checklist B's steps: what was looked at and whether it was fine. */
export function checklist(s: RelaySnapshot, log: LogFacts | null, input: TriageInput): Check[] {
  const q = s.queues;
  const top = s.topReasons[0];
  const c: Check[] = [
    {
      step: "queue size and top error",
      ok: s.messages === 0,
      detail: `${s.messages} messages, ${s.recipients} recipients${top ? `; top: ${top.count}× ${top.reason}` : ""}`,
    },
    {
      step: "active vs deferred",
      ok: true,
      detail: `active ${q.active}, deferred ${q.deferred}, hold ${q.hold}, incoming ${q.incoming}, maildrop ${q.maildrop}${q.deferred > q.active * 10 && q.deferred > 0 ? ": mostly deferred, Postfix tried and backed off" : ""}`,
    },
  ];
  const d = s.disk;
  c.push({
    step: "spool disk and inodes",
    ok: d ? !d.warning : false,
    detail: d
      ? `${d.path}: ${d.bytes?.usedPercent ?? "?"}% of space, ${d.inodes?.usedPercent ?? "?"}% of inodes used`
      : "not measured",
  });
  const sv = s.service;
  c.push({
    step: "master and qmgr",
    ok: !!sv?.masterRunning && !!sv.qmgrRunning,
    detail: sv
      ? `master ${sv.masterRunning ? `PID ${sv.masterPid}` : "not running"}, qmgr ${sv.qmgrRunning ? `PID ${sv.qmgrPid} (up ${sv.qmgrUptimeS ?? "?"} s)` : "missing"}`
      : "not measured",
  });
  for (const p of input.dns)
    c.push({ step: "DNS", ok: p.status === "NOERROR" && (p.queryMs ?? 0) < 1000, detail: p.output });
  for (const p of input.tcp) c.push({ step: "TCP", ok: p.ok, detail: p.output });
  c.push(...worldChecks(input, Date.parse(s.takenAt)));
  if (log)
    c.push({
      step: "milter, policy and Postfix warnings",
      ok: log.warnings.length === 0,
      detail: log.warnings.length
        ? log.warnings.map((w) => `${w.kind} ×${w.count}`).join(", ")
        : `none in ${log.linesRead} lines of ${log.source}`,
    });
  return c;
}

/** Checklist B as steps: outbound addresses, blocklists, reverse DNS, the certificate, bounces. */
export function worldChecks(input: TriageInput, nowMs: number): Check[] {
  const w = input.world;
  const c: Check[] = [];
  if (w) {
    c.push({
      step: "outbound addresses",
      ok: w.outbound.ips.length > 0,
      detail: w.outbound.ips.length
        ? `${w.outbound.ips.join(", ")} (from ${w.outbound.source})`
        : "unknown: smtp_bind_address is not set; list the relay's sending addresses as outboundIps in the config to check blocklists and reverse DNS",
    });
    for (const b of w.blocklists)
      c.push({ step: "blocklist", ok: b.status === "not listed", detail: b.output });
    for (const r of w.rdns)
      c.push({
        step: "reverse DNS",
        ok: r.status === "match",
        detail: `${r.ip}: ${r.status}; ${r.evidence.join("; ")}`,
      });
    if (w.cert)
      c.push({
        step: "TLS certificate",
        ok: w.cert.notAfterMs !== null && w.cert.notAfterMs - nowMs >= w.certWarnDays * DAY_MS,
        detail: w.cert.output,
      });
  }
  const r = bounceRates(input.log);
  if (r && input.log)
    c.push({
      step: "bounces",
      ok: bounceStormFinding(input.log) === null,
      detail: `${input.log.bounced} bounced in the log window; ${r.recent} in the last ${Math.round(r.recentMinutes)} min`,
    });
  return c;
}
