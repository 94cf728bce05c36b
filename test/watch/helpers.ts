import { expect } from "vitest";
import { buildSnapshot, type RelaySnapshot } from "../../src/analysis/snapshot.js";
import type { Card } from "../../src/cards/status.js";
import type { ChatFile } from "../../src/chat/port.js";
import type { WatchChat } from "../../src/watch/scheduler.js";

export const T0 = Date.UTC(2026, 0, 3, 10, 0, 0);
export const MIN = 60_000;

/** A clock the test moves; sleeping moves it too, so pacing is observable without waiting. */
export function clock(start = T0) {
  let now = start;
  return {
    now: () => now,
    set: (t: number) => {
      now = t;
    },
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

export interface Posted {
  kind: "post" | "update" | "png";
  channel: string;
  atMs: number;
  threadTs?: string | undefined;
  text: string;
  blocks: string;
}

export function recordingSlack(c: { now: () => number }): WatchChat & { log: Posted[] } {
  const log: Posted[] = [];
  let ts = 100;
  return {
    log,
    async post(channel: string, card: Card, threadTs?: string) {
      log.push({
        kind: "post",
        channel,
        atMs: c.now(),
        threadTs,
        text: card.text,
        blocks: JSON.stringify(card.blocks),
      });
      return `${++ts}.0001`;
    },
    async update(channel: string, _ts: string, card: Card) {
      log.push({
        kind: "update",
        channel,
        atMs: c.now(),
        text: card.text,
        blocks: JSON.stringify(card.blocks),
      });
    },
    async upload(channel: string, threadTs: string, file: ChatFile) {
      expect(file.data.subarray(1, 4).toString()).toBe("PNG");
      log.push({ kind: "png", channel, atMs: c.now(), threadTs, text: file.filename, blocks: "" });
    },
  };
}

export const REFUSED = "connect to mx.a.tld[192.0.2.1]:25: Connection refused";
export const DNS =
  "Host or domain name not found. Name service error for name=b.tld type=MX: Host not found, try again";

/** What the probes would report: depth per queue and the deferral reasons with their counts. */
export interface Shape {
  deferred: number;
  hold?: number;
  active?: number;
  reasons?: [string, number][];
}

/** A relay's snapshot as taken while its Postfix is stopped: master.pid names a PID that is gone. */
export function postfixDown(s: RelaySnapshot): RelaySnapshot {
  return {
    ...s,
    complete: false,
    listing: { ...s.listing, complete: false },
    service: {
      masterRunning: false,
      masterPid: undefined,
      qmgrRunning: false,
      qmgrPid: undefined,
      qmgrUptimeS: undefined,
      statusMessage: "master.pid names PID 100, which is not running",
    },
    probeErrors: [{ probe: "postqueue -j", message: "Postfix's master is not running" }],
  };
}

export function snapOf(relay: string, atMs: number, shape: Shape | "down"): RelaySnapshot {
  if (shape === "down")
    return buildSnapshot({
      relay,
      takenAtMs: atMs,
      listingComplete: false,
      probeErrors: [],
      fatal: `${relay} (root@127.0.0.1:22): cannot connect over SSH: connection refused`,
    });
  const hold = shape.hold ?? 0;
  const active = shape.active ?? 0;
  const messages = shape.deferred + hold + active;
  return buildSnapshot({
    relay,
    takenAtMs: atMs,
    listingComplete: true,
    probeErrors: [],
    queue: {
      messages,
      recipients: messages,
      bytes: messages * 1000,
      queues: { maildrop: 0, incoming: 0, active, deferred: shape.deferred, hold },
      oldestArrival: null,
      oldestDeferredArrival: null,
      ageBuckets: [],
      reasons: (shape.reasons ?? (shape.deferred ? [[REFUSED, shape.deferred]] : [])).map(
        ([reason, count]) => ({ reason, class: "network" as const, count }),
      ),
      domains: [],
      senderDomains: [],
      overflow: { reasons: 0, domains: 0 },
      parseErrors: 0,
    },
  });
}

export const progressUpdates = (log: Posted[]) =>
  log.filter((p) => p.kind === "post" && p.threadTs !== undefined && p.text.startsWith("Progress update"));
