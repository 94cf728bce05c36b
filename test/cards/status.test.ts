import { describe, expect, it } from "vitest";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import { buildSnapshot, type RelaySnapshot } from "../../src/analysis/snapshot.js";
import { headline, statusCard } from "../../src/cards/status.js";
import { statusText } from "../../src/cards/status-text.js";
import { postfixDown } from "../watch/helpers.js";

const NOW = Date.UTC(2026, 0, 3, 11, 0, 0);

/** A relay snapshot folded from `n` entries, each with its own recipient and a long cause. */
function snapshot(relay: string, n: number, reasonLength = 280): RelaySnapshot {
  const acc = new QueueAccumulator(NOW / 1000);
  for (let i = 0; i < n; i++) {
    acc.add({
      queueName: i % 10 === 0 ? "hold" : "deferred",
      queueId: `A${i.toString(16).toUpperCase().padStart(9, "0")}`,
      arrivalTime: NOW / 1000 - 60 * i,
      messageSize: 1000,
      forcedExpire: false,
      sender: "app@billing.example",
      recipients: [
        {
          address: `user${i}@dest${i % 40}.example`,
          delayReason:
            `connect to mx.dest${i % 12}.example[192.0.2.${i % 12}]:25: ${"Connection timed out ".repeat(20)}`.slice(
              0,
              reasonLength,
            ),
        },
      ],
    });
  }
  return buildSnapshot({
    relay,
    takenAtMs: NOW,
    queue: acc.summary(),
    listingComplete: true,
    probeErrors: [],
  });
}

function sectionTexts(blocks: Record<string, unknown>[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    const t = b.text as { text?: string } | undefined;
    if (t?.text) out.push(t.text);
    for (const f of (b.fields as { text: string }[] | undefined) ?? []) out.push(f.text);
    for (const e of (b.elements as { text?: string }[] | undefined) ?? []) if (e.text) out.push(e.text);
  }
  return out;
}

describe("statusCard", () => {
  it("renders a partial first answer (no progress yet) with the directory counts and the partial mark", () => {
    const acc = new QueueAccumulator(NOW / 1000);
    const s = buildSnapshot({
      relay: "relay-big",
      takenAtMs: NOW,
      queue: acc.summary(),
      listingComplete: false,
      queueFiles: { maildrop: 0, incoming: 3, active: 100, deferred: 999_000, hold: 897 },
      probeErrors: [],
    });
    const card = statusCard([s], { nowMs: NOW, progress: undefined });
    const texts = sectionTexts(card.blocks as Record<string, unknown>[]).join("\n");
    expect(texts).toContain(
      "relay-big: ⏳ partial: 0% listed so far · 999,000 deferred · 100 active · 897 on hold",
    );
    expect(texts).toContain(
      "⏳ partial: 0% listed so far; counts from the queue directories; the complete card follows",
    );
    expect(texts).not.toContain("queue empty");
  });

  it("an incomplete listing says why: Postfix down or cut short, and then promises no complete card", () => {
    const acc = new QueueAccumulator(NOW / 1000);
    const base = {
      relay: "relay-down",
      takenAtMs: NOW,
      queue: acc.summary(),
      listingComplete: false,
      queueFiles: { maildrop: 0, incoming: 0, active: 0, deferred: 5_000, hold: 12 },
    };
    const service = (masterRunning: boolean) => ({
      masterRunning,
      masterPid: masterRunning ? 100 : undefined,
      qmgrRunning: masterRunning,
      qmgrPid: masterRunning ? 101 : undefined,
      qmgrUptimeS: masterRunning ? 60 : undefined,
      statusMessage: masterRunning
        ? "master PID 100 running (master.pid), qmgr PID 101"
        : "master.pid names PID 100, which is not running",
    });
    const down = buildSnapshot({
      ...base,
      service: service(false),
      probeErrors: [
        {
          probe: "postqueue -j",
          message: "Postfix's master is not running, so postqueue -j cannot list the queue",
        },
      ],
    });
    expect(headline(down)).toBe(
      "relay-down: 🛑 Postfix is not running: nothing is delivered · 5,000 deferred · 12 on hold",
    );
    const downTexts = sectionTexts(
      statusCard([down], { nowMs: NOW, progress: undefined }).blocks as Record<string, unknown>[],
    ).join("\n");
    expect(downTexts).toContain(
      "🛑 Postfix is not running: nothing is delivered; counts from the queue directories",
    );
    expect(downTexts).not.toContain("the complete card follows");
    const cut = buildSnapshot({
      ...base,
      service: service(true),
      probeErrors: [
        {
          probe: "postqueue -j",
          message:
            "postqueue -j did not finish before the listing deadline; counts are from the queue directories",
        },
      ],
    });
    expect(headline(cut)).toBe("relay-down: ⚠ listing incomplete: 0% listed · 5,000 deferred · 12 on hold");
    const cutTexts = sectionTexts(
      statusCard([cut], { nowMs: NOW, progress: undefined }).blocks as Record<string, unknown>[],
    ).join("\n");
    expect(cutTexts).not.toContain("the complete card follows");
    // Still running (a first answer): the promise stands.
    const running = buildSnapshot({ ...base, service: service(true), probeErrors: [] });
    expect(headline(running)).toMatch(/^relay-down: ⏳ partial: 0% listed so far/);
  });

  it("a partial answer leads with ⏳, takes its top cause from the mail log, and never calls the queue empty", () => {
    const acc = new QueueAccumulator(NOW / 1000);
    const base = {
      relay: "relay-big",
      takenAtMs: NOW,
      queue: acc.summary(),
      listingComplete: false,
      probeErrors: [],
    };
    // The directory counts failed too: what is shown is a lower bound, and nothing says "empty".
    const blind = buildSnapshot({ ...base, queueFiles: null });
    expect(headline(blind)).toBe("relay-big: ⏳ partial: 0 messages listed so far · ≥0 deferred");
    expect(statusText([blind], NOW)).toMatch(/^== relay-big: ⏳ partial/);
    const log = {
      source: "/var/log/mail.log",
      linesRead: 900,
      deferrals: 131,
      windowMinutes: 60,
      newestMs: NOW,
      reasons: [
        {
          reason: "connect to mx.dest.example[192.0.2.1]:25: Connection refused",
          class: "network" as const,
          count: 131,
        },
      ],
    };
    const fromLog = buildSnapshot({
      ...base,
      log,
      queueFiles: { maildrop: 0, incoming: 0, active: 0, deferred: 200, hold: 0 },
    });
    expect(headline(fromLog)).toBe(
      "relay-big: ⏳ partial: 0% listed so far · 200 deferred · top cause in the mail log (last 1h): connection refused to mx.dest.example (131)",
    );
  });

  it("a partial card lists the mail log's causes, labelled as from the log, until the listing has read half the queue", () => {
    const acc = new QueueAccumulator(NOW / 1000);
    acc.add({
      queueName: "deferred",
      queueId: "ABCDE12345",
      arrivalTime: NOW / 1000 - 60,
      messageSize: 900,
      forcedExpire: false,
      sender: "app@billing.example",
      recipients: [
        { address: "u@slow.example", delayReason: "host mx.slow.example said: 451 4.7.1 try later" },
      ],
    });
    const log = {
      source: "/var/log/mail.log",
      linesRead: 20_000,
      deferrals: 5000,
      windowMinutes: 60,
      newestMs: NOW,
      reasons: [
        {
          reason: "connect to mx.refused.example[192.0.2.1]:25: Connection refused",
          class: "network" as const,
          count: 5000,
        },
      ],
    };
    const partial = (deferred: number) =>
      buildSnapshot({
        relay: "relay-big",
        takenAtMs: NOW,
        queue: acc.summary(),
        listingComplete: false,
        queueFiles: { maildrop: 0, incoming: 0, active: 0, deferred, hold: 0 },
        log,
        probeErrors: [],
      });
    const early = sectionTexts(statusCard([partial(1_000_000)], { nowMs: NOW }).blocks).join("\n");
    expect(early).toContain(
      "*Top deferral causes from the mail log* (last 1h, 5,000 deferrals; the listing has read 1 messages so far)",
    );
    expect(early).toContain("mx.refused.example");
    expect(early).not.toContain("mx.slow.example");
    // Half the queue listed: the listing's own causes, still marked as so far.
    const caughtUp = sectionTexts(statusCard([partial(2)], { nowMs: NOW }).blocks).join("\n");
    expect(caughtUp).toContain("*Top deferral reasons so far* (1 messages listed)");
    expect(caughtUp).toContain("mx.slow.example");
    expect(caughtUp).not.toContain("from the mail log");
  });

  it("puts the headline first: deferred count and the top cause with its count", () => {
    const s = snapshot("relay-a", 50);
    expect(headline(s)).toMatch(
      /^relay-a: 45 deferred · 5 on hold · top cause: connect timeout connection timed out co… to mx\.dest\d+\.example \(5\)$/,
    );
  });

  it.each([1, 3, 8, 12, 40])(
    "stays within Slack's limits with %i relays whatever the queue size",
    (relays) => {
      const snaps = Array.from({ length: relays }, (_, i) => snapshot(`relay-${i}`, 2000));
      const card = statusCard(snaps, { nowMs: NOW });
      expect(card.blocks.length).toBeLessThanOrEqual(50);
      for (const t of sectionTexts(card.blocks)) expect(t.length).toBeLessThanOrEqual(3000);
      // every relay is named somewhere, even those summarised in the overflow section
      const all = sectionTexts(card.blocks).join("\n");
      for (let i = 0; i < relays; i++) expect(all).toContain(`relay-${i}:`);
    },
  );

  it("a relay whose Postfix is down says so even when it is summarised in the overflow section", () => {
    const snaps = Array.from({ length: 40 }, (_, i) => {
      const s = snapshot(`relay-${i}`, 2000);
      return i >= 30 ? postfixDown(s) : s;
    });
    const all = sectionTexts(statusCard(snaps, { nowMs: NOW }).blocks).join("\n");
    for (let i = 30; i < 40; i++)
      expect(all).toMatch(new RegExp(`relay-${i}: (🛑|🔴) Postfix (is )?not running`));
  });

  it("does not grow with the queue", () => {
    const small = JSON.stringify(statusCard([snapshot("r", 200)], { nowMs: NOW })).length;
    const big = JSON.stringify(statusCard([snapshot("r", 20_000)], { nowMs: NOW })).length;
    expect(big).toBeLessThan(small * 1.2);
  });

  it("shows domains and counts, never recipients' addresses", () => {
    const card = JSON.stringify(statusCard([snapshot("relay-a", 300)], { nowMs: NOW }));
    expect(card).not.toMatch(/user\d+@/);
    expect(card).toContain("dest0.example");
  });

  it("says plainly when a relay did not answer", () => {
    const down = buildSnapshot({
      relay: "relay-b",
      takenAtMs: NOW,
      fatal: "relay-b (root@10.0.0.2:22): cannot connect over SSH: connection refused",
      listingComplete: false,
      probeErrors: [],
    });
    const card = statusCard([snapshot("relay-a", 10), down], { nowMs: NOW });
    expect(card.text).toContain(
      "relay-b: not answering · relay-b (root@10.0.0.2:22): cannot connect over SSH: connection refused",
    );
    expect(statusText([down], NOW)).toContain("not answering");
  });
});
