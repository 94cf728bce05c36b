import type { LogLine } from "./maillog.js";

/** Postfix's own alarms: the lines that say why a queue cannot move, not where mail went. */
export type WarningKind =
  | "milter"
  | "milter-reject"
  | "policy"
  | "congestion"
  | "space"
  | "write-error"
  | "process-limit"
  | "corruption"
  | "fatal";

export const WARNING_KINDS: readonly WarningKind[] = [
  "milter",
  "milter-reject",
  "policy",
  "congestion",
  "space",
  "write-error",
  "process-limit",
  "corruption",
  "fatal",
];

// Order matters: the first match wins. Each is a line Postfix 3.x really writes.
const RULES: { kind: WarningKind; re: RegExp }[] = [
  // smtpd/cleanup with milter_default_action = tempfail: "NOQUEUE: milter-reject: CONNECT from …: 451 4.7.1 Service unavailable"
  { kind: "milter-reject", re: /\bmilter-reject: /i },
  // "warning: connect to Milter service inet:127.0.0.1:8891: Connection refused", "warning: milter inet:…: …"
  {
    kind: "milter",
    re: /warning: (?:connect to Milter service|milter \S+: )|milter .*(?:timed out|not responding|unavailable)/i,
  },
  // "warning: problem talking to server 127.0.0.1:10023: Connection refused" (check_policy_service)
  {
    kind: "policy",
    re: /warning: problem talking to (?:server|service) |policy (?:service|server) \S* ?(?:unavailable|timeout|not responding)/i,
  },
  // qmgr: "warning: mail for example.com is using up 20000 of 20000 active queue entries"
  { kind: "congestion", re: /warning: mail for \S+ is using up \d+ of \d+ active queue entries/i },
  {
    kind: "space",
    re: /not enough free space in mail queue|insufficient system storage|no space left on device|disk quota exceeded/i,
  },
  {
    kind: "write-error",
    re: /queue file write error|too many open files|read-only file system|file too large/i,
  },
  // master: 'warning: service "smtp" (25) has reached its process limit "100": new clients may …'
  { kind: "process-limit", re: /has reached its process limit/i },
  // qmgr/cleanup/postsuper on damaged queue files
  {
    kind: "corruption",
    re: /saved corrupted queue file|corrupt(?:ed)? (?:queue )?file|unreadable queue file|unexpected record type|bad record type|file has been truncated|message has no (?:content|envelope)/i,
  },
  // a daemon that cannot start: "fatal: …", or master seeing it die: "warning: process … pid N exit status 1"
  {
    kind: "fatal",
    re: /^(?:fatal|panic): |warning: process \S+ pid \d+ (?:exit status [1-9]|killed by signal)/i,
  },
];

/** The kind of alarm a log line raises, if any. */
export function classifyWarning(line: LogLine): WarningKind | undefined {
  const m = line.message;
  if (!/warning:|fatal:|panic:|milter-reject|insufficient system storage/i.test(m)) return undefined;
  for (const r of RULES) if (r.re.test(m)) return r.kind;
  return undefined;
}

/** "mail for example.com is using up 20000 of 20000 active queue entries" → example.com */
export function congestedDestination(message: string): string | undefined {
  return /mail for (\S+) is using up \d+ of \d+ active queue entries/i.exec(message)?.[1];
}

export interface WarningSummary {
  kind: WarningKind;
  count: number;
  /** The first line of each wording (up to 4) and the latest, verbatim. */
  examples: string[];
  /** What the lines name: the congested destination, the milter or the service. */
  subjects: string[];
}

/** SPF, DKIM and DMARC in a remote refusal: the provider's words or its 5.7.2x codes. */
export const POLICY_RE = /\b(?:SPF|DKIM|DMARC)\b|\b5\.7\.2[3-7]\b|unauthenticated/i;
const OUTCOME_RE =
  /^([0-9A-Za-z]{5,32}): to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]+),.*? dsn=(\d\.\d{1,3}\.\d{1,3}), status=(bounced|deferred) \((.*)\)$/;
const SMTPD_REJECT_RE =
  /^(?:NOQUEUE|[0-9A-Za-z]{5,32}): reject: \S+ from (\S+?\[[^\]]+\])(?::\d+)?: \d{3} ([45]\.7\.1) (.*?)(?:; from=<|$)/;
const NDR_RE = /^[0-9A-Za-z]{5,32}: sender non-delivery notification: ([0-9A-Za-z]{5,32})$/;

/** A delivery that bounced or was deferred: `ID: to=<rcpt>, relay=…, dsn=X.Y.Z, status=… (reason)`. */
export interface OutcomeLine {
  queueId: string;
  recipient: string;
  dsn: string;
  status: "bounced" | "deferred";
  reason: string;
}

export function parseOutcomeLine(message: string): OutcomeLine | undefined {
  const o = OUTCOME_RE.exec(message);
  if (!o) return undefined;
  const [, queueId = "", recipient = "", , dsn = "", status, reason = ""] = o;
  return { queueId, recipient, dsn, status: status === "bounced" ? "bounced" : "deferred", reason };
}

/** The relay's own smtpd refusing a client with 5.7.1 or 4.7.1. */
export interface SmtpdRejectLine {
  /** host[address] of the client. */
  client: string;
  dsn: string;
  /** The words after the code, up to `; from=<`. */
  text: string;
}

export function parseSmtpdRejectLine(message: string): SmtpdRejectLine | undefined {
  const r = SMTPD_REJECT_RE.exec(message);
  if (!r?.[1]) return undefined;
  return { client: r[1], dsn: r[2] ?? "", text: r[3] ?? "" };
}

/** bounce's "ID: sender non-delivery notification: NDRID" → NDRID, the notification's own queue ID. */
export function parseNotificationLine(message: string): string | undefined {
  return NDR_RE.exec(message)?.[1];
}

/** What a warning names: the congested destination, the milter, the policy service or the daemon. */
export function warningSubject(kind: WarningKind, message: string): string | undefined {
  if (kind === "congestion") return congestedDestination(message);
  if (kind === "milter") return /(?:Milter service|milter) (\S+?):? /i.exec(message)?.[1];
  if (kind === "policy") return /problem talking to (?:server|service) (\S+?):? /i.exec(message)?.[1];
  if (kind === "process-limit") return /service "([^"]+)"/.exec(message)?.[1];
  return undefined;
}
