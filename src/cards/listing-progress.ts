import { num } from "./format.js";

/**
 * The terminal's progress line while listings stream: entries read per relay and the rate.
 * Pure: the readings and the clock in, one line out.
 */
export function listingProgressLine(
  read: ReadonlyMap<string, number>,
  startedMs: number,
  nowMs: number,
): string {
  const total = [...read.values()].reduce((n, x) => n + x, 0);
  const seconds = Math.max(0.001, (nowMs - startedMs) / 1000);
  const who = read.size === 1 ? [...read.keys()][0] : `${read.size} relays`;
  return `⏳ ${who}: ${num(total)} messages listed (${num(Math.round(total / seconds))}/s)`;
}

export interface ListingProgress {
  onListing: (relay: string, entries: number) => void;
  /** Clears the line before an answer is printed; a listing still running redraws it. */
  done: () => void;
  /** Clears it for good. */
  stop: () => void;
}

/**
 * Redraws one stderr line (a TTY only: a pipe or a log gets nothing), at most every interval,
 * and clears it when done so the answer prints on a clean line.
 */
export function terminalProgress(o: {
  write: (s: string) => void;
  nowMs: () => number;
  everyMs?: number;
}): ListingProgress {
  const read = new Map<string, number>();
  const started = o.nowMs();
  let last = Number.NEGATIVE_INFINITY;
  let drawn = false;
  let stopped = false;
  const clear = () => {
    if (drawn) o.write("\r\x1b[K");
    drawn = false;
  };
  return {
    onListing(relay, entries) {
      read.set(relay, entries);
      if (stopped) return;
      const now = o.nowMs();
      if (now - last < (o.everyMs ?? 250)) return;
      last = now;
      drawn = true;
      o.write(`\r\x1b[K${listingProgressLine(read, started, now)}`);
    },
    done: clear,
    stop() {
      clear();
      stopped = true;
    },
  };
}
