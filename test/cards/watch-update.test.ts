import { describe, expect, it } from "vitest";
import { movement } from "../../src/analysis/delta.js";
import {
  type RelayUpdate,
  watchHeaderCard,
  watchUpdateCard,
  watchUpdateText,
} from "../../src/cards/watch-update.js";
import type { Watch } from "../../src/store/store.js";
import { MIN, postfixDown, REFUSED, snapOf, T0 } from "../watch/helpers.js";

const watch: Watch = {
  id: "w1",
  relay: null,
  channelId: "C1",
  messageTs: "1.0001",
  createdBy: "UALICE",
  intervalMs: 15 * MIN,
  startedAtMs: T0,
  nextDueMs: T0 + 30 * MIN,
  updates: 1,
  drainedStreak: 0,
  status: "active",
  stopReason: null,
  version: 2,
};

function relay(name: string, reasons: number, down = false): RelayUpdate {
  const long = (i: number) => `${REFUSED} ${"x".repeat(400)} #${i}`;
  const shape = {
    deferred: 1000,
    reasons: Array.from({ length: reasons }, (_, i) => [long(i), 100 - i] as [string, number]),
  };
  const now = snapOf(name, T0 + 15 * MIN, down ? "down" : shape);
  const before = snapOf(name, T0, { deferred: 1200, reasons: [] });
  return {
    snapshot: now,
    progress: down ? undefined : movement(now, before, before, T0 + 15 * MIN),
    atStart: 1200,
    atLast: 1200,
    series: [
      { atMs: T0, queues: before.queues },
      { atMs: T0 + 15 * MIN, queues: now.queues },
    ],
  };
}

describe("watchUpdateCard", () => {
  it("says a relay's Postfix is down in its update, with the counts from the queue directories", () => {
    const r = relay("relay-down", 0);
    const snapshot = postfixDown(r.snapshot);
    const card = watchUpdateCard(watch, 2, [{ ...r, snapshot }], T0 + 30 * MIN);
    const text = JSON.stringify(card.blocks);
    expect(text).toContain("🛑 Postfix is not running: nothing is delivered");
    expect(text).toContain("*relay-down*: 1,000 now");
  });

  it.each([1, 5, 20, 21, 60])("stays within Slack's limits with %i relays with long causes", (n) => {
    const card = watchUpdateCard(
      watch,
      2,
      Array.from({ length: n }, (_, i) => relay(`relay-${i}`, 5, i % 7 === 3)),
      T0 + 15 * MIN,
    );
    expect(card.blocks.length).toBeLessThanOrEqual(50);
    expect(card.text.length).toBeLessThanOrEqual(3000);
    for (const b of card.blocks) {
      const t = (b as { text?: { text: string } }).text?.text ?? "";
      expect(t.length).toBeLessThanOrEqual(3000);
    }
    // every relay is named somewhere
    const all = JSON.stringify(card.blocks);
    for (let i = 0; i < Math.min(n, 20); i++) expect(all).toContain(`relay-${i}`);
    if (n > 20) expect(all).toContain(`*${n - 20} more relays*`);
  });

  it("names a relay that did not answer and says the watch goes on", () => {
    const card = watchUpdateCard(watch, 2, [relay("relay-a", 1, true)], T0 + 15 * MIN);
    expect(JSON.stringify(card.blocks)).toContain(
      "🔴 *relay-a*: not answering — relay-a (root@127.0.0.1:22): cannot connect over SSH: connection refused. The watch goes on",
    );
  });
});

describe("watchUpdateText and the header", () => {
  it("prints the same facts as the card for the terminal", () => {
    const text = watchUpdateText({ seq: 1, nowMs: T0 + 15 * MIN, everyMs: 15 * MIN, startedAtMs: T0 }, [
      relay("relay-a", 1),
    ]);
    const [head, name, depth] = text.split("\n");
    expect(head).toBe("-- update 1 at 2026-01-03 10:15:00Z, 15m into the watch (every 15m; Ctrl-C stops)");
    expect(name).toMatch(/^== relay-a: 1,000 deferred · top cause: connection refused .*\(100\)$/);
    expect(depth).toBe("   depth 1,000 now · 1,200 at the last update · 1,200 at the start   █▇");
    expect(text).toContain("since last (15 minutes ago): total −200, deferred −200");
    expect(text).toContain(`NEW CAUSE: ${REFUSED}`);
  });

  it("the header says how many updates went out and when the next is due, or that it ended", () => {
    const live = JSON.stringify(watchHeaderCard(watch, [], T0 + 16 * MIN).blocks);
    expect(live).toContain("👀 Watching *every relay* every 15m (started by <@UALICE>, 16 minutes ago)");
    expect(live).toContain(
      `1 update(s) so far · next <!date^${(T0 + 30 * MIN) / 1000}^{time}|2026-01-03 10:30 UTC>`,
    );
    const ended = watchHeaderCard(watch, [], T0 + 16 * MIN, { reason: "stopped", by: "UBOB" });
    expect(JSON.stringify(ended.blocks)).toContain(
      "⏹ Watch of *every relay* ended after 1 update(s): stopped by <@UBOB>",
    );
    // The mention is a mention, once: not escaped into literal text.
    expect(JSON.stringify(ended.blocks)).not.toContain("&lt;@");
    expect(ended.text).toBe("Watch of every relay ended: stopped by <@UBOB>");
    const drained = watchHeaderCard(watch, [snapOf("relay-a", T0, { deferred: 3 })], T0, {
      reason: "the queue stayed under 10 & quiet",
    });
    expect(drained.text).toMatch(
      /^Watch of every relay ended: the queue stayed under 10 &amp; quiet; relay-a: 3 deferred/,
    );
  });
});
