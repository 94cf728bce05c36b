import type { LogFacts } from "../log-facts.js";
import type { RelaySnapshot } from "../snapshot.js";
import { worldChecks } from "../world-findings.js";
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
