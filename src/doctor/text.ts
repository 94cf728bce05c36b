import type { Check } from "../util/check.js";

const MARK: Record<Check["status"], string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };

/** The checklist as the terminal shows it: one line per check, the fix under each failure. */
export function doctorText(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => `${c.area} ${c.name}`.length), 10);
  const lines = checks.flatMap((c) => {
    const head = `${MARK[c.status]}  ${`${c.area} ${c.name}`.padEnd(width)}  ${c.detail}`;
    return c.fix ? [head, `${" ".repeat(width + 8)}fix: ${c.fix}`] : [head];
  });
  const failed = checks.filter((c) => c.status === "fail").length;
  const warned = checks.filter((c) => c.status === "warn").length;
  const summary = failed
    ? `${failed} check(s) failed${warned ? `, ${warned} warning(s)` : ""}: fix them and run mailq-bot doctor again.`
    : `All checks passed${warned ? ` (${warned} warning(s))` : ""}.`;
  return `${lines.join("\n")}\n\n${summary}\n`;
}
