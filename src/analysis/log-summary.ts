import { type Deferral, parseDeferral, parseLogLine } from "../parsers/maillog.js";
import type { ReasonRow } from "./queue-summary.js";
import { classifyReason, normaliseReason } from "./reasons.js";

export interface LogSummary {
  source: string;
  linesRead: number;
  /** Deferrals inside the window that ends at the newest line read. */
  deferrals: number;
  windowMinutes: number;
  newestMs: number | null;
  reasons: ReasonRow[];
}

/**
 * Streams log lines; keeps counts per minute and normalised cause, not the lines, and
 * forgets minutes that fell out of the window (logs arrive in time order).
 */
export class LogAccumulator {
  private lines = 0;
  private readonly perMinute = new Map<number, Map<string, number>>();
  private readonly normalised = new Map<string, string>();
  private newest: number | null = null;
  /** Postfix's dsn= code per cause: it classifies causes whose text carries none. */
  private readonly dsnOf = new Map<string, string>();

  constructor(
    private readonly source: string,
    private readonly referenceMs: number,
    private readonly windowMinutes = 60,
  ) {}

  addLine(text: string): Deferral | undefined {
    this.lines++;
    const line = parseLogLine(text, this.referenceMs);
    if (!line) return undefined;
    if (this.newest === null || line.timeMs > this.newest) this.newest = line.timeMs;
    const d = parseDeferral(line);
    if (!d) return undefined;
    let key = this.normalised.get(d.reason);
    if (key === undefined) {
      key = normaliseReason(d.reason);
      if (this.normalised.size > 20_000) this.normalised.clear();
      this.normalised.set(d.reason, key);
    }
    const minute = Math.floor(d.timeMs / 60_000);
    let bucket = this.perMinute.get(minute);
    if (!bucket) {
      bucket = new Map();
      this.perMinute.set(minute, bucket);
      this.prune();
    }
    bucket.set(key, (bucket.get(key) ?? 0) + 1);
    if (!this.dsnOf.has(key) && this.dsnOf.size < 20_000) this.dsnOf.set(key, d.dsn);
    return d;
  }

  private firstMinute(): number {
    return Math.floor(((this.newest ?? 0) - this.windowMinutes * 60_000) / 60_000);
  }

  private prune(): void {
    const first = this.firstMinute();
    for (const m of this.perMinute.keys()) if (m < first) this.perMinute.delete(m);
  }

  summary(top = 10): LogSummary {
    const first = this.firstMinute();
    const counts = new Map<string, number>();
    let deferrals = 0;
    for (const [minute, bucket] of this.perMinute) {
      if (minute < first) continue;
      for (const [key, n] of bucket) {
        deferrals += n;
        counts.set(key, (counts.get(key) ?? 0) + n);
      }
    }
    const reasons = [...counts]
      .map(([reason, count]) => ({ reason, class: classifyReason(reason, this.dsnOf.get(reason)), count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
      .slice(0, top);
    return {
      source: this.source,
      linesRead: this.lines,
      deferrals,
      windowMinutes: this.windowMinutes,
      newestMs: this.newest,
      reasons,
    };
  }
}
