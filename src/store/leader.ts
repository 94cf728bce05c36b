import type { LeaseRepo } from "./store.js";

export interface LeaderOptions {
  leases: LeaseRepo;
  /** The lease's name, e.g. "watch-scheduler". */
  name: string;
  /** Who this process is (host:pid:random); distinct per process. */
  holder: string;
  /** How long a lease lasts without renewal: the longest a dead leader blocks the others. */
  ttlMs: number;
  /** How often to renew (leader) or try to take over (follower); ttlMs / 3 by default. */
  everyMs?: number;
  nowMs?: () => number;
  /** Told when this process gains or loses the lease. */
  onChange?: (leading: boolean) => void;
  /** A failed store call (the loop keeps going; leadership lapses at the lease's expiry). */
  onError?: (e: unknown) => void;
}

export interface Leadership {
  /**
   * True while this process holds the lease, judged on its own clock: it stops trusting the
   * lease at the expiry it last wrote, even when it could not reach the store since.
   */
  isLeader(): boolean;
  /** Stops the loop and gives the lease up at once, so another process takes over without waiting. */
  stop(): Promise<void>;
}

/**
 * Keeps trying to hold one named lease: one process across replicas runs the schedules; when it
 * dies, another takes over within ttlMs + everyMs.
 */
export function startLeadership(o: LeaderOptions): Leadership {
  const nowMs = o.nowMs ?? Date.now;
  const everyMs = o.everyMs ?? Math.max(1, Math.floor(o.ttlMs / 3));
  let validUntil = 0;
  let leading = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const set = (now: boolean) => {
    if (now !== leading) {
      leading = now;
      o.onChange?.(now);
    }
  };
  const tick = async () => {
    const started = nowMs();
    try {
      const ok = leading
        ? await o.leases.renew(o.name, o.holder, o.ttlMs, started)
        : await o.leases.acquire(o.name, o.holder, o.ttlMs, started);
      if (stopped) return;
      if (ok) validUntil = started + o.ttlMs;
      else if (leading) {
        // Lost it (expired and taken): try to take it back as a follower next time.
        validUntil = 0;
      }
      set(ok && nowMs() < validUntil);
    } catch (e) {
      o.onError?.(e);
      if (nowMs() >= validUntil) set(false);
    }
  };
  const loop = () => {
    if (stopped) return;
    running = tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, everyMs);
    });
  };
  loop();
  return {
    isLeader: () => leading && nowMs() < validUntil,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      set(false);
      validUntil = 0;
      // Unconditionally: a tick that won the lease as stop() began must not leave it held.
      await o.leases.release(o.name, o.holder).catch((e) => o.onError?.(e));
    },
  };
}
