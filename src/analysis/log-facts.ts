import { parseDeferral, parseLogLine } from "../parsers/maillog.js";
import {
  classifyWarning,
  POLICY_RE,
  parseNotificationLine,
  parseOutcomeLine,
  parseSmtpdRejectLine,
  WARNING_KINDS,
  type WarningKind,
  type WarningSummary,
  warningSubject,
} from "../parsers/maillog-warnings.js";
import { classifyReason, normaliseReason, type ReasonClass } from "./reasons.js";

/**
 * The facts triage reads from a mail log: the parsers read each line, this accumulator
 * classifies deferrals (reasons.ts) and keeps counts per destination, bounded in memory.
 */

export interface DestinationFacts {
  domain: string;
  /** Deferral lines for recipients in this domain. */
  deferrals: number;
  /** Deferrals per reason class. */
  classes: Partial<Record<ReasonClass, number>>;
  /** The most frequent class. */
  mainClass: ReasonClass;
  /** host[ip]:port from the `relay=` field of its deferral lines: where Postfix really went. */
  nextHops: string[];
  /** A queue ID of a deferred message for it (the latest seen). */
  sampleQueueId: string;
  /** The latest deferral line, verbatim. */
  sampleLine: string;
}

export interface LogFacts {
  source: string;
  linesRead: number;
  /** Time of the first and last parsed line (ms); null when none parsed. */
  firstMs: number | null;
  lastMs: number | null;
  warnings: WarningSummary[];
  /** New queue files in the window: cleanup's `ID: message-id=` lines (one per message it writes). */
  newMessages: number;
  /** Messages that left the queue for good: qmgr's `ID: removed`. */
  removed: number;
  /** Final recipient outcomes in the window. */
  sent: number;
  bounced: number;
  expired: number;
  deferred: number;
  destinations: DestinationFacts[];
  /** The latest deferral line per reason class, verbatim. */
  sampleLineByClass: Partial<Record<ReasonClass, string>>;
  /** Bounces (status=bounced) by cause, per minute, and the notifications they sent. */
  bounces: BounceFacts;
  /** SPF/DKIM/DMARC refusals (5.7.x) in bounced and deferred lines, per destination. */
  policyRefusals: PolicyRefusal[];
  /** The relay's own smtpd refusing with 5.7.1 or 4.7.1 (Relay access denied, …), per client. */
  smtpdRejects: SmtpdReject[];
}

export interface BounceFacts {
  /** Causes (normalised reasons), most bounces first. */
  byCause: { cause: string; count: number; sample: string }[];
  /** [minute start (ms), bounces] for each minute of the log that had any, oldest first. */
  perMinute: [number, number][];
  /** Non-delivery notifications the relay generated (bounce: "sender non-delivery notification"). */
  notifications: number;
  /** Of those, how many could not be delivered themselves: the sender does not exist (forged). */
  notificationsFailed: number;
}

export interface PolicyRefusal {
  domain: string;
  count: number;
  /** The latest log line, verbatim. */
  sample: string;
  /** The provider's own words (the reason Postfix logged), the latest. */
  text: string;
  dsn: string;
}

export interface SmtpdReject {
  /** host[address] of the client. */
  client: string;
  count: number;
  /** "Relay access denied", "Sender address rejected: …" */
  reason: string;
  /** 5.7.1, or 4.7.1 (Postfix's default defer_unauth_destination). */
  dsn: string;
  sample: string;
}

const MAX_CAUSES = 200;
const MAX_DESTINATIONS = 5000;
const MAX_EXAMPLES = 4;
const MAX_LINE = 400;

interface DestAcc {
  deferrals: number;
  classes: Map<ReasonClass, number>;
  hops: Map<string, number>;
  sampleQueueId: string;
  sampleLine: string;
}

/**
 * Reads a mail log a line at a time and keeps what triage needs: Postfix's alarms, how many
 * messages came in and left, and per destination how and where deliveries are deferred.
 * Memory is bounded by the number of destinations (capped), not by the log's length.
 */
export class LogFactsAccumulator {
  private lines = 0;
  private first: number | null = null;
  private last: number | null = null;
  private readonly warnings = new Map<
    WarningKind,
    { count: number; distinct: Map<string, string>; latest: string; subjects: Set<string> }
  >();
  private newMessages = 0;
  private removed = 0;
  private sent = 0;
  private bounced = 0;
  private expired = 0;
  private deferred = 0;
  private readonly dests = new Map<string, DestAcc>();
  private readonly sampleByClass = new Map<ReasonClass, string>();
  private readonly classCache = new Map<string, ReasonClass>();
  private readonly bounceCauses = new Map<string, { count: number; sample: string }>();
  private readonly bounceMinutes = new Map<number, number>();
  private readonly ndrIds = new Set<string>();
  /** Queue IDs with a bounced or deferred delivery (to tell which notifications failed). */
  private readonly ndrFailed = new Set<string>();
  private readonly policy = new Map<string, PolicyRefusal>();
  private readonly rejects = new Map<string, SmtpdReject>();

  constructor(
    private readonly source: string,
    private readonly referenceMs: number,
  ) {}

  addLine(text: string): void {
    const line = parseLogLine(text, this.referenceMs);
    if (!line) return;
    this.lines++;
    if (this.first === null || line.timeMs < this.first) this.first = line.timeMs;
    if (this.last === null || line.timeMs > this.last) this.last = line.timeMs;
    const verbatim = text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text;
    const kind = classifyWarning(line);
    if (kind) {
      const w = this.warnings.get(kind) ?? {
        count: 0,
        distinct: new Map<string, string>(),
        latest: verbatim,
        subjects: new Set<string>(),
      };
      w.count++;
      w.latest = verbatim;
      // The first line of each different wording (numbers and IDs aside), then the latest.
      const sig = `${line.program} ${line.message.replace(/[0-9A-F]{6,}|\d+/g, "#")}`;
      if (!w.distinct.has(sig) && w.distinct.size < MAX_EXAMPLES) w.distinct.set(sig, verbatim);
      const subject = warningSubject(kind, line.message);
      if (subject && w.subjects.size < 20) w.subjects.add(subject);
      this.warnings.set(kind, w);
      return;
    }
    const m = line.message;
    this.worldFacts(line.service, m, line.timeMs, verbatim);
    if (line.service === "cleanup" && /^[0-9A-Za-z]{5,32}: (?:resent-)?message-id=/.test(m))
      this.newMessages++;
    else if (line.service === "qmgr" && /^[0-9A-Za-z]{5,32}: removed$/.test(m)) this.removed++;
    else if (line.service === "qmgr" && /, status=expired, /.test(m)) this.expired++;
    else if (/ status=sent /.test(m)) this.sent++;
    else if (/ status=bounced /.test(m)) this.bounced++;
    else {
      const d = parseDeferral(line);
      if (!d) return;
      this.deferred++;
      const domain = d.recipient.slice(d.recipient.lastIndexOf("@") + 1).toLowerCase() || "(none)";
      // The dsn= code is Postfix's classification of the reason: part of the key.
      const cacheKey = `${d.dsn} ${d.reason}`;
      let cls = this.classCache.get(cacheKey);
      if (cls === undefined) {
        cls = classifyReason(normaliseReason(d.reason), d.dsn);
        if (this.classCache.size > 20_000) this.classCache.clear();
        this.classCache.set(cacheKey, cls);
      }
      this.sampleByClass.set(cls, verbatim);
      let acc = this.dests.get(domain);
      if (!acc) {
        if (this.dests.size >= MAX_DESTINATIONS) return;
        acc = { deferrals: 0, classes: new Map(), hops: new Map(), sampleQueueId: "", sampleLine: "" };
        this.dests.set(domain, acc);
      }
      acc.deferrals++;
      acc.classes.set(cls, (acc.classes.get(cls) ?? 0) + 1);
      // Where Postfix went: relay= when it got an answer; the reason names it when the connect failed.
      const hop =
        d.relay !== "none" ? d.relay : /connect to (\S+?\[[^\]]+\](?::\d{1,5})?)[:\s]/.exec(d.reason)?.[1];
      if (hop && (acc.hops.has(hop) || acc.hops.size < 10)) acc.hops.set(hop, (acc.hops.get(hop) ?? 0) + 1);
      acc.sampleQueueId = d.queueId;
      acc.sampleLine = verbatim;
    }
  }

  /** Bounces, notifications, SPF/DKIM/DMARC refusals and the relay's own 5.7.1 rejects. */
  private worldFacts(service: string, m: string, timeMs: number, verbatim: string): void {
    const ndr = service === "bounce" ? parseNotificationLine(m) : undefined;
    if (ndr) {
      if (this.ndrIds.size < 100_000) this.ndrIds.add(ndr);
      return;
    }
    const rej = service === "smtpd" ? parseSmtpdRejectLine(m) : undefined;
    if (rej) {
      const reason = rej.text.replace(/^<[^>]*>: /, "").slice(0, 120);
      const key = `${rej.client} ${reason}`;
      const r = this.rejects.get(key) ?? {
        client: rej.client,
        count: 0,
        reason,
        dsn: rej.dsn,
        sample: verbatim,
      };
      r.count++;
      r.sample = verbatim;
      if (this.rejects.has(key) || this.rejects.size < MAX_CAUSES) this.rejects.set(key, r);
      return;
    }
    const o = parseOutcomeLine(m);
    if (!o) return;
    const { queueId: id, recipient: rcpt, dsn, status, reason } = o;
    // Postfix's processes log through one socket, not always in order: matched at the end.
    if (this.ndrFailed.size < 100_000) this.ndrFailed.add(id);
    if (POLICY_RE.test(reason) && (/^[45]\.7\./.test(dsn) || /\b[45]\.7\.\d/.test(reason))) {
      const domain = rcpt.slice(rcpt.lastIndexOf("@") + 1).toLowerCase() || "(none)";
      const p = this.policy.get(domain) ?? { domain, count: 0, sample: verbatim, text: "", dsn };
      p.count++;
      p.sample = verbatim;
      p.text = reason.replace(/^host \S+ said: /, "").slice(0, MAX_LINE);
      p.dsn = dsn;
      if (this.policy.has(domain) || this.policy.size < MAX_CAUSES) this.policy.set(domain, p);
    }
    if (status !== "bounced") return;
    const cause = normaliseReason(reason);
    const c = this.bounceCauses.get(cause) ?? { count: 0, sample: verbatim };
    c.count++;
    c.sample = verbatim;
    if (this.bounceCauses.has(cause) || this.bounceCauses.size < MAX_CAUSES) this.bounceCauses.set(cause, c);
    const minute = Math.floor(timeMs / 60_000) * 60_000;
    if (this.bounceMinutes.has(minute) || this.bounceMinutes.size < 50_000)
      this.bounceMinutes.set(minute, (this.bounceMinutes.get(minute) ?? 0) + 1);
  }

  facts(topDestinations = 50): LogFacts {
    const destinations = [...this.dests]
      .map(([domain, a]): DestinationFacts => {
        const classes = Object.fromEntries(a.classes) as Partial<Record<ReasonClass, number>>;
        const mainClass = [...a.classes].sort((x, y) => y[1] - x[1])[0]?.[0] ?? "other";
        return {
          domain,
          deferrals: a.deferrals,
          classes,
          mainClass,
          nextHops: [...a.hops].sort((x, y) => y[1] - x[1]).map(([h]) => h),
          sampleQueueId: a.sampleQueueId,
          sampleLine: a.sampleLine,
        };
      })
      .sort((x, y) => y.deferrals - x.deferrals || x.domain.localeCompare(y.domain))
      .slice(0, topDestinations);
    return {
      source: this.source,
      linesRead: this.lines,
      firstMs: this.first,
      lastMs: this.last,
      warnings: WARNING_KINDS.flatMap((kind) => {
        const w = this.warnings.get(kind);
        if (!w) return [];
        const examples = [...w.distinct.values()];
        if (!examples.includes(w.latest)) examples.push(w.latest);
        return [{ kind, count: w.count, examples, subjects: [...w.subjects] }];
      }),
      newMessages: this.newMessages,
      removed: this.removed,
      sent: this.sent,
      bounced: this.bounced,
      expired: this.expired,
      deferred: this.deferred,
      destinations,
      sampleLineByClass: Object.fromEntries(this.sampleByClass) as Partial<Record<ReasonClass, string>>,
      bounces: {
        byCause: [...this.bounceCauses]
          .map(([cause, c]) => ({ cause, count: c.count, sample: c.sample }))
          .sort((a, b) => b.count - a.count),
        perMinute: [...this.bounceMinutes].sort((a, b) => a[0] - b[0]),
        notifications: this.ndrIds.size,
        notificationsFailed: [...this.ndrIds].filter((id) => this.ndrFailed.has(id)).length,
      },
      policyRefusals: [...this.policy.values()].sort((a, b) => b.count - a.count),
      smtpdRejects: [...this.rejects.values()].sort((a, b) => b.count - a.count),
    };
  }
}
