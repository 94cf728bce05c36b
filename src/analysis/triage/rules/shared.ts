import type { TriageFacts } from "../facts.js";

/** The share of the queue's recipients whose deferral reason matches `re`. */
export const shareMatching = (f: TriageFacts, re: RegExp): number =>
  Math.min(
    1,
    f.snapshot.topReasons.filter((r) => re.test(r.reason)).reduce((a, r) => a + r.count, 0) / f.recipients,
  );

export const DAY_MS = 86_400_000;
/** When triage looked: the snapshot's time, so a replayed snapshot judges as it did then. */
export const takenAtMs = (f: TriageFacts): number => Date.parse(f.snapshot.takenAt);
