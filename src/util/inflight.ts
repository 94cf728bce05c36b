import { abortableSleep, type Sleep } from "./abortable-sleep.js";

/** Work that has started and not finished, so a stopping process can wait for it. */
export interface Inflight {
  /** Counts `work` as running until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T>;
  readonly size: number;
  /**
   * Resolves once everything tracked (also what starts meanwhile) has settled, or once
   * `withinMs` has passed; returns how many are still running then.
   */
  drain(withinMs: number): Promise<number>;
}

/** `sleep` is the clock a drain gives up by; the drain aborts it once everything has settled. */
export function inflight(sleep: Sleep = abortableSleep): Inflight {
  const running = new Set<Promise<void>>();
  return {
    track(work) {
      const settled = work.then(
        () => {},
        () => {},
      );
      running.add(settled);
      void settled.then(() => running.delete(settled));
      return work;
    },
    get size() {
      return running.size;
    },
    async drain(withinMs) {
      const stop = new AbortController();
      let gaveUp = false;
      const deadline = sleep(withinMs, stop.signal).then(() => {
        gaveUp = true;
      });
      while (running.size > 0 && !gaveUp) await Promise.race([Promise.all(running), deadline]);
      stop.abort();
      return running.size;
    },
  };
}
