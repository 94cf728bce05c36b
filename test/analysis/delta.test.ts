import { describe, expect, it } from "vitest";
import { incidentStart, movement, sparkline } from "../../src/analysis/delta.js";
import type { RelaySnapshot } from "../../src/analysis/snapshot.js";
import { buildSnapshot } from "../../src/analysis/snapshot.js";
import { movementLine, statusCard } from "../../src/cards/status.js";

const T0 = Date.UTC(2026, 0, 3, 10, 0, 0);
const MIN = 60_000;

function snap(
  minute: number,
  deferred: number,
  hold: number,
  reasons: [string, number][] = [],
  oldestDeferredMinute?: number,
): RelaySnapshot {
  const s = buildSnapshot({
    relay: "relay-a",
    takenAtMs: T0 + minute * MIN,
    listingComplete: true,
    probeErrors: [],
    postfix: { version: "3.7.11", maximalQueueLifetimeS: 5 * 86400, concurrency: {} },
    queue: {
      messages: deferred + hold,
      recipients: deferred + hold,
      bytes: 0,
      queues: { maildrop: 0, incoming: 0, active: 0, deferred, hold },
      oldestArrival: null,
      oldestDeferredArrival:
        oldestDeferredMinute === undefined ? null : (T0 + oldestDeferredMinute * MIN) / 1000,
      ageBuckets: [],
      reasons: reasons.map(([reason, count]) => ({ reason, class: "network" as const, count })),
      domains: [],
      senderDomains: [],
      overflow: { reasons: 0, domains: 0 },
      parseErrors: 0,
    },
  });
  return s;
}

const refused = "connect to mx.a.tld[192.0.2.1]:25: Connection refused";
const dns =
  "Host or domain name not found. Name service error for name=b.tld type=MX: Host not found, try again";

describe("progress", () => {
  it("gives the change, drain rate, time to empty and bounce horizon", () => {
    const before = snap(0, 900, 100, [[refused, 900]]);
    const now = snap(
      15,
      600,
      100,
      [
        [refused, 500],
        [dns, 100],
      ],
      -60,
    );
    const p = movement(now, before, before, T0 + 15 * MIN);
    expect(p.sinceLast).toMatchObject({ minutes: 15, messages: -300, queues: { deferred: -300, hold: 0 } });
    expect(p.drainPerMinute).toBe(20);
    expect(p.minutesToEmpty).toBe(700 / 20);
    // oldest deferred arrived an hour before T0; it bounces 5 days after arrival
    expect(p.minutesToFirstBounce).toBe(5 * 1440 - 75);
    expect(p.reasons.map((r) => [r.reason, r.trend])).toEqual([
      [refused, "down"],
      [dns, "new"],
    ]);
    expect(p.newCauses).toEqual([dns]);
  });

  it("says the queue is growing and gives no time to empty", () => {
    const p = movement(snap(10, 200, 0), snap(0, 100, 0), undefined, T0 + 10 * MIN);
    expect(p.drainPerMinute).toBe(-10);
    expect(p.minutesToEmpty).toBeNull();
    expect(movementLine(p)).toContain("GROWING 10.0/min");
  });

  it("marks a cause that went away", () => {
    const p = movement(
      snap(15, 10, 0, [[dns, 10]]),
      snap(0, 500, 0, [
        [refused, 490],
        [dns, 10],
      ]),
      undefined,
      T0,
    );
    expect(p.reasons.find((r) => r.reason === refused)?.trend).toBe("gone");
    expect(p.reasons.find((r) => r.reason === dns)?.trend).toBe("same");
  });

  it("has no deltas for a first snapshot", () => {
    const p = movement(snap(0, 5, 0), undefined, undefined, T0);
    expect(p.sinceLast).toBeNull();
    expect(p.drainPerMinute).toBeNull();
    expect(movementLine(p)).toMatch(/^first snapshot of this relay/);
  });
});

describe("incidentStart", () => {
  it("is the first of the latest unbroken run of non-empty snapshots", () => {
    const h = [snap(0, 50, 0), snap(15, 0, 0), snap(30, 10, 0), snap(45, 400, 0), snap(60, 300, 0)];
    expect(incidentStart(h)?.takenAt).toBe(new Date(T0 + 30 * MIN).toISOString());
    expect(incidentStart([snap(0, 0, 0)])).toBeUndefined();
  });
});

describe("sparkline", () => {
  it.each([
    [[], ""],
    [[0, 0], "▁▁"],
    [[5, 5], "██"],
    [[0, 7, 14], "▁▅█"],
    [[900, 600, 300, 0], "█▆▃▁"],
    // from zero: a queue that went from 166 to 105 is still more than half full
    [[166, 105], "█▅"],
    [[1000, 990], "██"],
  ])("%j → %s", (values, expected) => {
    expect(sparkline(values)).toBe(expected);
  });
});

describe("the status card with progress", () => {
  it("shows the change line, trend marks and calls out a new cause", () => {
    const before = snap(0, 900, 100, [[refused, 900]]);
    const now = snap(15, 600, 100, [
      [refused, 500],
      [dns, 100],
    ]);
    const progressMap = new Map([["relay-a", movement(now, before, before, T0 + 15 * MIN)]]);
    const card = JSON.stringify(statusCard([now], { nowMs: T0 + 15 * MIN, progress: progressMap }));
    expect(card).toContain("since last (15 minutes ago): total −300, deferred −300, active ±0, hold ±0");
    expect(card).toContain("draining 20.0/min");
    expect(card).toContain("500 ↓ · `network`");
    expect(card).toContain("100 🆕 · `network`");
    expect(card).toContain("🆕 *new cause*: Host or domain name not found");
  });
});
