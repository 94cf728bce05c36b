import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import { buildSnapshot, type RelaySnapshot } from "../../src/analysis/snapshot.js";
import { relayState, worstFirst } from "../../src/cards/fleet.js";
import { statusCard } from "../../src/cards/status.js";
import { statusText } from "../../src/cards/status-text.js";
import { parsePostqueueJsonLine, type QueueEntry } from "../../src/parsers/postqueue.js";
import { postfixDown } from "../watch/helpers.js";

// The lab's real postqueue -j output (test/fixtures/relay-a): 171 deferred, 10 on hold.
const CAPTURED_AT = Date.UTC(2026, 10, 22, 12, 7, 0);
const LAB: QueueEntry[] = readFileSync(
  join(import.meta.dirname, "../fixtures/relay-a/postqueue-j.jsonl"),
  "utf8",
)
  .split("\n")
  .filter(Boolean)
  .flatMap((l) => {
    const r = parsePostqueueJsonLine(l);
    return r.ok ? [r.value] : [];
  });

function snap(relay: string, entries: QueueEntry[], o: { complete?: boolean; ageShiftS?: number } = {}) {
  const acc = new QueueAccumulator(CAPTURED_AT / 1000);
  for (const e of entries) acc.add({ ...e, arrivalTime: e.arrivalTime - (o.ageShiftS ?? 0) });
  return buildSnapshot({
    relay,
    takenAtMs: CAPTURED_AT,
    queue: acc.summary(),
    listingComplete: o.complete ?? true,
    probeErrors: [],
  });
}

const down = (relay: string, port: number) =>
  buildSnapshot({
    relay,
    takenAtMs: CAPTURED_AT,
    fatal: `${relay} (root@127.0.0.1:${port}): cannot connect over SSH: connect ECONNREFUSED 127.0.0.1:${port}`,
    listingComplete: false,
    probeErrors: [],
  });

const name = (i: number) => `relay-${String(i).padStart(2, "0")}`;
const deferredOnly = LAB.filter((e) => e.queueName === "deferred");
const holdOnly = LAB.filter((e) => e.queueName === "hold");

/** 50 relays in config order: two down (30th and 47th), a dozen with the lab's deferrals, the rest idle. */
function fleet(): RelaySnapshot[] {
  return Array.from({ length: 50 }, (_, k) => {
    const i = k + 1;
    if (i === 30 || i === 47) return down(name(i), 2200 + i);
    if (i === 5) return snap(name(i), holdOnly);
    if (i === 9) return snap(name(i), deferredOnly.slice(0, 40), { complete: false });
    if (i % 4 === 2) return snap(name(i), deferredOnly.slice(0, 10 * i), { ageShiftS: i * 60 });
    return snap(name(i), []);
  });
}

const texts = (blocks: Record<string, unknown>[]) =>
  blocks.map((b) => (b.text as { text?: string } | undefined)?.text ?? "").filter(Boolean);

describe("the status card for a fleet (50 relays from the lab's captured listing)", () => {
  const snaps = fleet();
  const card = statusCard(snaps, { nowMs: CAPTURED_AT });
  const t = texts(card.blocks);

  it("leads with the fleet's totals", () => {
    const deferred = snaps.reduce((n, s) => n + (s.ok ? s.queues.deferred : 0), 0);
    expect(deferred).toBeGreaterThan(0);
    const [first] = t;
    expect(first).toContain(
      "*Fleet of 50 relays: 🔴 2 not answering · 🟠 13 with mail waiting or trouble · 🟢 35 healthy*",
    );
    expect(first).toContain(`${deferred.toLocaleString("en-US")} deferred`);
    expect(first).toContain("10 on hold");
    expect(first).toContain("⏳ some answers are partial: these totals are lower bounds");
    expect(first).toMatch(/oldest deferred 50m 12s \(relay-50\)/);
    expect(first).toMatch(
      /top cause across the fleet: connection refused to 127\.0\.0\.1 \([\d,]+ on 14 relays\)/,
    );
    expect(card.text.split("\n")[0]).toBe(
      "Fleet of 50 relays: 🔴 2 not answering · 🟠 13 with mail waiting or trouble · 🟢 35 healthy",
    );
  });

  it("a relay whose Postfix is not running is failing, red and first, like one that does not answer", () => {
    const up = snap("relay-up", LAB);
    const down = postfixDown(snap("relay-down", LAB.slice(0, 3)));
    expect(relayState(down)).toBe("failing");
    expect(worstFirst([up, down]).map((s) => s.relay)).toEqual(["relay-down", "relay-up"]);
    const text = texts(statusCard([up, down], { nowMs: CAPTURED_AT }).blocks as Record<string, unknown>[]);
    expect(text.find((l) => l.includes("relay-down"))).toMatch(/^🔴 \*relay-down: 🛑 Postfix is not running/);
  });

  it("puts the failing relays first, even the 30th in config order, then the most deferred", () => {
    const order = worstFirst(snaps).map((s) => s.relay);
    expect(order.slice(0, 2)).toEqual(["relay-30", "relay-47"]);
    const attention = worstFirst(snaps).filter((s) => relayState(s) === "attention");
    for (let i = 1; i < attention.length; i++)
      expect((attention[i - 1] as RelaySnapshot).queues.deferred).toBeGreaterThanOrEqual(
        (attention[i] as RelaySnapshot).queues.deferred,
      );
    // On the card: the red ones in full, right after the totals.
    expect(t[1]).toMatch(/^🔴 \*relay-30: not answering/);
    expect(t[2]).toMatch(/^🔴 \*relay-47: not answering/);
    expect(t[3]).toMatch(/^🟠 \*relay-(46|50): /);
  });

  it("folds the healthy relays into one line, hold-only and idle alike, and names every relay", () => {
    const healthyLine = t.filter((x) => x.startsWith("🟢"));
    expect(healthyLine).toHaveLength(1);
    expect(healthyLine[0]).toMatch(
      /^🟢 \*35 healthy relays\* \(nothing waiting\): relay-01, relay-03, relay-04, relay-05,/,
    );
    // The partial one is not called healthy: nothing is known to be fine yet.
    expect(healthyLine[0]).not.toContain("relay-09");
    const all = JSON.stringify(card.blocks);
    for (let i = 1; i <= 50; i++) expect(all).toContain(name(i));
  });

  it("the terminal's text: the same totals first, then worst first", () => {
    const text = statusText(snaps, CAPTURED_AT);
    expect(text.split("\n")[0]).toBe(
      "Fleet of 50 relays: 🔴 2 not answering · 🟠 13 with mail waiting or trouble · 🟢 35 healthy",
    );
    const order = [...text.matchAll(/^== (relay-\d\d):/gm)].map((m) => m[1]);
    expect(order.slice(0, 2)).toEqual(["relay-30", "relay-47"]);
    expect(order).toHaveLength(50);
  });

  it("says the lever beside each cause's class", () => {
    expect(JSON.stringify(card.blocks)).toContain(
      "· `network` → _fix the network path_ · connect to 127.0.0.1",
    );
  });

  it("stays within Slack's limits", () => {
    expect(card.blocks.length).toBeLessThanOrEqual(50);
    expect(card.text.length).toBeLessThanOrEqual(3000);
    for (const x of t) expect(x.length).toBeLessThanOrEqual(3000);
  });

  it("one relay: no fleet line, the relay itself", () => {
    const one = statusCard([snaps[1] as RelaySnapshot], { nowMs: CAPTURED_AT });
    expect(texts(one.blocks)[0]).toMatch(/^🟠 \*relay-02: /);
  });
});
