import type { LogFacts } from "../log-facts.js";
import type { RelaySnapshot } from "../snapshot.js";
import { pct } from "./format.js";
import type { Intake } from "./types.js";

/**
 * Intake against drain, from the log: new queue files (cleanup's message-id lines) against
 * messages removed (qmgr's "removed") over the window the lines cover. One reading is enough,
 * and the log says which way mail moves even when the queue size alone looks flat.
 */
export function intake(s: RelaySnapshot, log: LogFacts | null): Intake | null {
  if (!log || log.firstMs === null || log.lastMs === null) return null;
  const minutes = Math.max((log.lastMs - log.firstMs) / 60_000, 1 / 60);
  const growing = log.newMessages >= 10 && log.newMessages > log.removed * 1.5;
  const rate = (n: number) => `${(n / minutes).toFixed(1)}/min`;
  const verdict = `${log.newMessages} new, ${log.removed} removed in the last ${minutes < 1 ? `${Math.round(minutes * 60)} s` : `${Math.round(minutes)} min`} of the log (${rate(log.newMessages)} in, ${rate(log.removed)} out): ${growing ? "mail arrives faster than it leaves" : log.newMessages > log.removed ? "intake slightly ahead of drain" : "not growing"}`;
  const topSender = s.topSenderDomains[0];
  const flood =
    topSender && s.messages > 0 && topSender.count / s.messages >= 0.5
      ? ` ${topSender.domain} sent ${pct(topSender.count / s.messages)} of the queued messages: check it first.`
      : "";
  return {
    windowMinutes: Math.round(minutes * 10) / 10,
    newMessages: log.newMessages,
    removed: log.removed,
    growing,
    verdict,
    recommendation: growing
      ? `If an internal source is flooding (an app in a loop, a compromised account), rate-limit or block it at the edge (4xx) before recovering the queue; avoid postfix stop as a first reflex.${flood}`
      : null,
  };
}
