import type { DiskUsage, Load, ServiceHealth } from "../parsers/system.js";
import type { LogSummary } from "./log-summary.js";
import type { AgeBucket, DomainRow, QueueCounts, QueueSummary, ReasonRow } from "./queue-summary.js";

export interface ProbeError {
  probe: string;
  message: string;
}

export interface DiskReport {
  path: string;
  bytes: DiskUsage | null;
  inodes: DiskUsage | null;
  /** True when bytes or inodes are past the configured threshold. */
  warning: boolean;
}

/**
 * The load average and how stalled the relay is on I/O: PSI where the kernel has it, else vmstat's
 * iowait. Snapshots stored before PSI was read lack the two ioPressure fields (read them as null).
 */
export interface LoadReport extends Load {
  /** Share of the last 10 s with at least one task stalled on I/O (PSI "some avg10", 0–100); null without PSI. */
  ioPressurePercent: number | null;
  /** Share of the last 10 s with every non-idle task stalled on I/O (PSI "full avg10"); null without PSI. */
  ioPressureFullPercent: number | null;
  /** CPU time waiting on I/O over one second (vmstat's "wa"): measured only where PSI did not answer. */
  iowaitPercent: number | null;
}

/** Everything `status` knows about one relay at one moment; also the `--json` document. */
export interface RelaySnapshot {
  relay: string;
  ok: boolean;
  error?: string;
  /** ISO time the probes started. */
  takenAt: string;
  messages: number;
  recipients: number;
  bytes: number;
  queues: QueueCounts;
  /** Files per queue directory (fast, independent of the listing); null where not readable. */
  queueFiles: Record<keyof QueueCounts, number | null> | null;
  /** ISO time of the oldest message's arrival. */
  oldestArrival: string | null;
  oldestDeferredArrival: string | null;
  ageBuckets: AgeBucket[];
  topReasons: ReasonRow[];
  topDomains: DomainRow[];
  topSenderDomains: DomainRow[];
  disk: DiskReport | null;
  service: ServiceHealth | null;
  load: LoadReport | null;
  log: LogSummary | null;
  postfix: {
    version: string;
    maximalQueueLifetimeS: number | null;
    concurrency: Record<string, string>;
  } | null;
  /** False while the queue listing is still running (a partial first answer) or never finished. */
  complete: boolean;
  listing: {
    complete: boolean;
    entriesRead: number;
    parseErrors: number;
    /** Share of the queue's messages listed so far (0–1); null when the total is unknown. */
    shareRead: number | null;
    /** True when the per-queue counts are exact (a complete listing, or every queue directory counted). */
    countsExact: boolean;
  };
  probeErrors: ProbeError[];
}

export interface SnapshotParts {
  relay: string;
  takenAtMs: number;
  fatal?: string;
  queue?: QueueSummary;
  listingComplete: boolean;
  queueFiles?: RelaySnapshot["queueFiles"];
  disk?: DiskReport | null;
  service?: ServiceHealth | null;
  load?: RelaySnapshot["load"];
  log?: LogSummary | null;
  postfix?: RelaySnapshot["postfix"];
  probeErrors: ProbeError[];
  top?: number;
}

const iso = (s: number | null | undefined) => (s ? new Date(s * 1000).toISOString() : null);

/**
 * Per-queue counts: from the listing when it is complete; from the queue directories
 * (fast, exact at that moment) while the listing is partial.
 */
function queueCounts(p: SnapshotParts): QueueCounts {
  const listed = p.queue?.queues ?? { maildrop: 0, incoming: 0, active: 0, deferred: 0, hold: 0 };
  if (p.listingComplete || !p.queueFiles) return listed;
  const out = { ...listed };
  for (const k of Object.keys(out) as (keyof QueueCounts)[]) out[k] = p.queueFiles[k] ?? listed[k];
  return out;
}

/** Postfix's master is known not to run (master.pid and ps): nothing is delivered. Unknown is not down. */
export const masterDown = (s: { service?: ServiceHealth | null | undefined }): boolean =>
  s.service?.masterRunning === false;

export function buildSnapshot(p: SnapshotParts): RelaySnapshot {
  const q = p.queue;
  const top = p.top ?? 5;
  const queues = queueCounts(p);
  const counted = !!p.queueFiles && Object.values(p.queueFiles).every((n) => n !== null);
  const countsExact = p.listingComplete || counted;
  const total = Object.values(queues).reduce((a, b) => a + b, 0);
  const entriesRead = q?.messages ?? 0;
  const snap: RelaySnapshot = {
    relay: p.relay,
    ok: p.fatal === undefined,
    takenAt: new Date(p.takenAtMs).toISOString(),
    messages: p.listingComplete ? entriesRead : total,
    recipients: q?.recipients ?? 0,
    bytes: q?.bytes ?? 0,
    queues,
    queueFiles: p.queueFiles ?? null,
    oldestArrival: iso(q?.oldestArrival),
    oldestDeferredArrival: iso(q?.oldestDeferredArrival),
    ageBuckets: q?.ageBuckets ?? [],
    topReasons: (q?.reasons ?? []).slice(0, top),
    topDomains: (q?.domains ?? []).slice(0, top),
    topSenderDomains: (q?.senderDomains ?? []).slice(0, top),
    disk: p.disk ?? null,
    service: p.service ?? null,
    load: p.load ?? null,
    log: p.log ?? null,
    postfix: p.postfix ?? null,
    complete: p.listingComplete,
    listing: {
      complete: p.listingComplete,
      entriesRead,
      parseErrors: q?.parseErrors ?? 0,
      shareRead: p.listingComplete ? 1 : countsExact && total > 0 ? Math.min(1, entriesRead / total) : null,
      countsExact,
    },
    probeErrors: p.probeErrors,
  };
  if (p.fatal !== undefined) snap.error = p.fatal;
  return snap;
}

export function diskReport(
  path: string,
  bytes: DiskUsage | null,
  inodes: DiskUsage | null,
  t: { diskPercent: number; inodePercent: number },
): DiskReport {
  return {
    path,
    bytes,
    inodes,
    warning: (bytes?.usedPercent ?? 0) >= t.diskPercent || (inodes?.usedPercent ?? 0) >= t.inodePercent,
  };
}
