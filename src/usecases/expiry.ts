import { pruneArchive } from "../archive/maintenance.js";
import { expireDue, type FlowDeps, failAbandoned } from "../changes/approval.js";
import type { Chat } from "../chat/port.js";

/**
 * Expires pending requests when their time is up, so a stale card loses its buttons without
 * anyone pressing one. Every replica may run it: each expiry is a compare-and-set.
 */
export function startExpirySweeper(
  deps: Omit<FlowDeps, "slack"> & { chat: Chat },
  o: { intervalMs?: number; onError?: (e: unknown) => void } = {},
): { stop(): Promise<void>; sweep(): Promise<number> } {
  const flow: FlowDeps = { ...deps, slack: deps.chat };
  let running: Promise<number> | undefined;
  const sweepOnce = async () => {
    try {
      // Past their expiry: expired. Left running by a dead process: failed, and said so.
      const n = (await expireDue(flow)) + (await failAbandoned(flow));
      // Past archive.retention: pruned, with an audit line (once, whichever replica gets there first).
      await pruneArchive(flow.store, flow.config.archive.retention, flow.nowMs());
      return n;
    } catch (e) {
      o.onError?.(e);
      return 0;
    }
  };
  const sweep = async () => {
    if (running) return 0;
    running = sweepOnce();
    try {
      return await running;
    } finally {
      running = undefined;
    }
  };
  const timer = setInterval(() => void sweep(), o.intervalMs ?? 30_000);
  timer.unref();
  return {
    // Resolves once a sweep under way has finished: it may be writing to the store.
    async stop() {
      clearInterval(timer);
      await running;
    },
    sweep,
  };
}
