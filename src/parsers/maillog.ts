export interface LogLine {
  /** Milliseconds since the epoch. RFC 3164 stamps carry no zone or year: read as UTC, year from `referenceMs`. */
  timeMs: number;
  host: string;
  /** The syslog tag, e.g. "postfix/smtp", "postfix/submission/smtpd", "postfix-out/smtp". */
  program: string;
  /** The Postfix daemon: the tag's last component ("smtp", "error", "smtpd"). */
  service: string;
  pid: number | undefined;
  message: string;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

const LINE_RE =
  /^(?:([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?))\s+(\S+)\s+([^\s[:]+)(?:\[(\d+)\])?:\s(.*)$/;

/** The reference's year, remembered: a log tail passes the same reference for every one of its lines. */
let lastReference = Number.NaN;
let lastYear = 0;
function utcYear(referenceMs: number): number {
  if (referenceMs !== lastReference) {
    lastYear = new Date(referenceMs).getUTCFullYear();
    lastReference = referenceMs;
  }
  return lastYear;
}

function rfc3164ToMs(
  mon: string,
  day: string,
  h: string,
  mi: string,
  s: string,
  referenceMs: number,
): number {
  const month = MONTHS[mon] ?? 0;
  const refYear = utcYear(referenceMs);
  let t = Date.UTC(refYear, month, Number(day), Number(h), Number(mi), Number(s));
  // A December line read in January belongs to last year.
  if (t - referenceMs > 2 * 86_400_000)
    t = Date.UTC(refYear - 1, month, Number(day), Number(h), Number(mi), Number(s));
  return t;
}

function rfc3339ToMs(stamp: string): number {
  // journalctl -o short-iso writes +0000; Date wants +00:00.
  const fixed = stamp.replace(/([+-]\d\d)(\d\d)$/, "$1:$2");
  const hasZone = /(?:Z|[+-]\d\d:\d\d)$/.test(fixed);
  return Date.parse(hasZone ? fixed : `${fixed}Z`);
}

export function parseLogLine(line: string, referenceMs: number): LogLine | undefined {
  const m = LINE_RE.exec(line);
  if (!m) return undefined;
  const timeMs = m[1]
    ? rfc3164ToMs(m[1], m[2] ?? "1", m[3] ?? "0", m[4] ?? "0", m[5] ?? "0", referenceMs)
    : rfc3339ToMs(m[6] ?? "");
  if (!Number.isFinite(timeMs)) return undefined;
  const program = m[8] ?? "";
  const slash = program.lastIndexOf("/");
  return {
    timeMs,
    host: m[7] ?? "",
    program,
    service: slash >= 0 ? program.slice(slash + 1) : program,
    pid: m[9] ? Number(m[9]) : undefined,
    message: m[10] ?? "",
  };
}

export interface Deferral {
  timeMs: number;
  queueId: string;
  recipient: string;
  relay: string;
  dsn: string;
  reason: string;
  program: string;
}

const DELIVERY_SERVICES = new Set(["smtp", "lmtp", "error", "local", "virtual", "pipe", "discard", "retry"]);
const DEFERRAL_RE =
  /^([0-9A-Za-z]{5,32}): to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]+),.*? dsn=(\d\.\d{1,3}\.\d{1,3}), status=deferred \((.*)\)$/;

/** A delivery agent's `status=deferred` line (smtp, error, lmtp, …), under any syslog_name. */
export function parseDeferral(line: LogLine): Deferral | undefined {
  if (!DELIVERY_SERVICES.has(line.service)) return undefined;
  if (!line.message.includes("status=deferred")) return undefined;
  const m = DEFERRAL_RE.exec(line.message);
  if (!m) return undefined;
  return {
    timeMs: line.timeMs,
    queueId: m[1] ?? "",
    recipient: m[2] ?? "",
    relay: m[3] ?? "",
    dsn: m[4] ?? "",
    reason: m[5] ?? "",
    program: line.program,
  };
}
