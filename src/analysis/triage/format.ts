import type { WarningSummary } from "../../parsers/maillog-warnings.js";

/** The wording shared by triage's rules, so every finding says numbers and settings alike. */

export const pct = (x: number) => `${Math.round(x * 100)}%`;
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Postfix's own warnings of these kinds as evidence: the count, then the lines verbatim. */
export function warningEvidence(ws: WarningSummary[], kinds: string[]): string[] {
  return ws.filter((w) => kinds.includes(w.kind)).flatMap((w) => [`${w.count}× in the log:`, ...w.examples]);
}

/** The concurrency and process limits in force, for advice that says what to lower. */
export function concurrencyLine(settings: Record<string, string>): string {
  const keys = [
    "smtp_destination_concurrency_limit",
    "default_destination_concurrency_limit",
    "default_process_limit",
    "qmgr_message_active_limit",
  ];
  const bits = keys.filter((k) => settings[k] !== undefined).map((k) => `${k} = ${settings[k]}`);
  return bits.length ? `Now: ${bits.join(", ")}.` : "";
}
