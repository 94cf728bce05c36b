import type { LogLine } from "./maillog.js";

/** Postfix's own alarms: the lines that say why a queue cannot move, not where mail went. */
export type WarningKind =
  | "milter"
  | "policy"
  | "congestion"
  | "space"
  | "write-error"
  | "process-limit"
  | "corruption";

const RULES: { kind: WarningKind; re: RegExp }[] = [
  {
    kind: "milter",
    re: /\bmilter\b.*(?:connect to milter service|connection refused|timed out|unavailable|not responding)|milter-reject|: milter .* error/i,
  },
  {
    kind: "policy",
    re: /problem talking to (?:server|service)|policy (?:service|server) .* (?:unavailable|timeout|refused)/i,
  },
  { kind: "congestion", re: /mail for \S+ is using up \d+ of \d+ active queue entries/i },
  {
    kind: "space",
    re: /not enough free space in mail queue|insufficient system storage|No space left on device/i,
  },
  { kind: "write-error", re: /queue file write error/i },
  { kind: "process-limit", re: /has reached its process limit/i },
  {
    kind: "corruption",
    re: /corrupt(?:ed)? (?:queue )?file|unreadable queue file|bad record type|queue file is corrupt|saved corrupted/i,
  },
];

/** The kind of alarm a log line raises, if any. */
export function classifyWarning(line: LogLine): WarningKind | undefined {
  const m = line.message;
  if (!/warning:|fatal:|panic:|error:|reject:|milter/i.test(m)) return undefined;
  for (const r of RULES) if (r.re.test(m)) return r.kind;
  return undefined;
}

/** qmgr's `from=<…>, size=…, nrcpt=… (queue active)`: a message entering delivery. */
export const isIntake = (l: LogLine) =>
  l.service === "qmgr" && /: from=<[^>]*>, size=\d+, nrcpt=\d+ \(queue active\)$/.test(l.message);
/** qmgr's `ID: removed`: a message leaving the queue for good. */
export const isRemoval = (l: LogLine) =>
  l.service === "qmgr" && /^[0-9A-Za-z]{5,32}: removed$/.test(l.message);
