import {
  addressDomain,
  isQueueName,
  QUEUE_NAMES,
  type QueueEntry,
  type QueueName,
} from "../parsers/postqueue.js";
import { classifyReason, normaliseReason, type ReasonClass } from "./reasons.js";

export type QueueCounts = Record<QueueName, number>;

export interface ReasonRow {
  reason: string;
  class: ReasonClass;
  count: number;
}

export interface DomainRow {
  domain: string;
  count: number;
}

export interface AgeBucket {
  /** Upper bound in minutes; null for the last, open bucket. */
  maxMinutes: number | null;
  count: number;
}

/** qshape's buckets (minutes): 5 10 20 40 80 160 320 640 1280 1280+. */
export const AGE_BUCKET_LIMITS = [5, 10, 20, 40, 80, 160, 320, 640, 1280] as const;

export interface QueueSummary {
  messages: number;
  recipients: number;
  bytes: number;
  queues: QueueCounts;
  /** Seconds since the epoch; null when the queue is empty. */
  oldestArrival: number | null;
  oldestDeferredArrival: number | null;
  ageBuckets: AgeBucket[];
  reasons: ReasonRow[];
  domains: DomainRow[];
  senderDomains: DomainRow[];
  /** Distinct reasons or domains beyond the caps, folded into the counts but not listed. */
  overflow: { reasons: number; domains: number };
  parseErrors: number;
}

export function emptyQueueCounts(): QueueCounts {
  return { maildrop: 0, incoming: 0, active: 0, deferred: 0, hold: 0 };
}

const MAX_REASONS = 5000;
const MAX_DOMAINS = 200_000;
const NORMALISE_CACHE = 20_000;

function topN<T extends { count: number }>(rows: Iterable<T>, n: number, key: (t: T) => string): T[] {
  return [...rows].sort((a, b) => b.count - a.count || key(a).localeCompare(key(b))).slice(0, n);
}

/**
 * Folds `postqueue -j` entries one at a time; memory grows with distinct causes and
 * domains (both capped), never with the number of messages.
 */
export class QueueAccumulator {
  private messages = 0;
  private recipients = 0;
  private bytes = 0;
  private readonly queues = emptyQueueCounts();
  private oldest: number | null = null;
  private oldestDeferred: number | null = null;
  private readonly buckets = new Array<number>(AGE_BUCKET_LIMITS.length + 1).fill(0);
  private readonly reasons = new Map<string, ReasonRow>();
  private readonly domains = new Map<string, number>();
  private readonly senderDomains = new Map<string, number>();
  private readonly normalised = new Map<string, string>();
  private overflowReasons = 0;
  private overflowDomains = 0;
  private parseErrors = 0;

  constructor(private readonly nowSeconds: number) {}

  /** Entries folded so far (a progress line reads it while the listing streams). */
  get messagesRead(): number {
    return this.messages;
  }

  addParseError(): void {
    this.parseErrors++;
  }

  add(e: QueueEntry): void {
    this.messages++;
    this.bytes += e.messageSize;
    if (isQueueName(e.queueName)) this.queues[e.queueName]++;
    if (e.arrivalTime > 0) {
      if (this.oldest === null || e.arrivalTime < this.oldest) this.oldest = e.arrivalTime;
      if (e.queueName === "deferred" && (this.oldestDeferred === null || e.arrivalTime < this.oldestDeferred))
        this.oldestDeferred = e.arrivalTime;
      const ageMin = Math.max(0, (this.nowSeconds - e.arrivalTime) / 60);
      let i = 0;
      while (i < AGE_BUCKET_LIMITS.length && ageMin > (AGE_BUCKET_LIMITS[i] as number)) i++;
      this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    }
    this.bump(this.senderDomains, addressDomain(e.sender) || "<>");
    for (const r of e.recipients) {
      this.recipients++;
      this.bump(this.domains, addressDomain(r.address) || "(none)");
      if (r.delayReason) this.addReason(r.delayReason);
    }
  }

  private bump(map: Map<string, number>, key: string): void {
    const v = map.get(key);
    if (v !== undefined) map.set(key, v + 1);
    else if (map.size < MAX_DOMAINS) map.set(key, 1);
    else this.overflowDomains++;
  }

  private addReason(raw: string): void {
    let key = this.normalised.get(raw);
    if (key === undefined) {
      key = normaliseReason(raw);
      if (this.normalised.size >= NORMALISE_CACHE) this.normalised.clear();
      this.normalised.set(raw, key);
    }
    const row = this.reasons.get(key);
    if (row) row.count++;
    else if (this.reasons.size < MAX_REASONS)
      this.reasons.set(key, { reason: key, class: classifyReason(key), count: 1 });
    else this.overflowReasons++;
  }

  summary(top = 10): QueueSummary {
    const toRows = (m: Map<string, number>) =>
      topN(
        [...m].map(([domain, count]) => ({ domain, count })),
        top,
        (r) => r.domain,
      );
    return {
      messages: this.messages,
      recipients: this.recipients,
      bytes: this.bytes,
      queues: { ...this.queues },
      oldestArrival: this.oldest,
      oldestDeferredArrival: this.oldestDeferred,
      ageBuckets: this.buckets.map((count, i) => ({ maxMinutes: AGE_BUCKET_LIMITS[i] ?? null, count })),
      reasons: topN(this.reasons.values(), top, (r) => r.reason).map((r) => ({ ...r })),
      domains: toRows(this.domains),
      senderDomains: toRows(this.senderDomains),
      overflow: { reasons: this.overflowReasons, domains: this.overflowDomains },
      parseErrors: this.parseErrors,
    };
  }
}

export { QUEUE_NAMES };
