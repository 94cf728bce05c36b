import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { buildSnapshot } from "../../src/analysis/snapshot.js";
import type { Card } from "../../src/cards/status.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { type WatchChat, WatchScheduler } from "../../src/watch/scheduler.js";
import { privateDatabase } from "../db/private-database.js";
import "../db/types.js";
import { closedRelaysConfig } from "../helpers/config.js";

const shared = inject("postgresUrl");
const MIN = 60_000;
const config = closedRelaysConfig([`relay-${randomUUID().slice(0, 8)}`]);
const relay = config.relays[0]?.name as string;

describe("two bot replicas on one PostgreSQL database", () => {
  it("post each watch update once, and the survivor carries on when one stops", async () => {
    let now = Date.UTC(2026, 0, 3, 10, 0, 0);
    const t0 = now;
    const posts: string[] = [];
    const slack: WatchChat = {
      async post(_c: string, card: Card, threadTs?: string) {
        if (threadTs) posts.push(card.text.split(":")[0] ?? "");
        return `${posts.length + 1}.0001`;
      },
      async update() {},
      async upload() {},
    };
    const collect = async () => [
      buildSnapshot({
        relay,
        takenAtMs: now,
        listingComplete: true,
        probeErrors: [],
        queue: {
          messages: 500,
          recipients: 500,
          bytes: 0,
          queues: { maildrop: 0, incoming: 0, active: 0, deferred: 500, hold: 0 },
          oldestArrival: null,
          oldestDeferredArrival: null,
          ageBuckets: [],
          reasons: [],
          domains: [],
          senderDomains: [],
          overflow: { reasons: 0, domains: 0 },
          parseErrors: 0,
        },
      }),
    ];
    // The schedulers tick every active watch in their database: theirs must be the only ones.
    const url = await privateDatabase(shared, "mailq_replicas");
    const replica = async () =>
      new WatchScheduler({
        store: await openPostgresStore(url, { max: 2 }),
        config,
        collect,
        chat: slack,
        nowMs: () => now,
        sleep: async () => {},
      });
    const [a, b] = [await replica(), await replica()];
    await a.startWatch({ relay, channelId: "CREPL", userId: "UALICE", intervalMs: 15 * MIN });
    for (const k of [1, 2, 3]) {
      now = t0 + k * 15 * MIN;
      await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    }
    expect(posts).toEqual(["Progress update 1", "Progress update 2", "Progress update 3"]);
    await a.stop();
    now = t0 + 4 * 15 * MIN;
    await b.tick();
    expect(posts.at(-1)).toBe("Progress update 4");
  });
});
