import { describe, expect, it } from "vitest";
import { NotPostable } from "../../src/chat/port.js";
import { describeError } from "../../src/errors.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store, WatchRepo } from "../../src/store/store.js";
import { recordSnapshots } from "../../src/watch/record.js";
import { type WatchChat, WatchScheduler } from "../../src/watch/scheduler.js";
import { closedRelaysConfig } from "../helpers/config.js";
import {
  clock,
  DNS,
  MIN,
  progressUpdates,
  REFUSED,
  recordingSlack,
  type Shape,
  snapOf,
  T0,
} from "./helpers.js";

const config = closedRelaysConfig(["relay-a"]);

/** The probes' answers, by minute since T0. */
function scheduler(
  store: Store,
  c: ReturnType<typeof clock>,
  slack: WatchChat,
  shapeAt: (minute: number) => Shape | "down",
) {
  return new WatchScheduler({
    store,
    config,
    collect: async () => [snapOf("relay-a", c.now(), shapeAt(Math.round((c.now() - T0) / MIN)))],
    chat: slack,
    nowMs: c.now,
    sleep: c.sleep,
  });
}

const start = (s: WatchScheduler) =>
  s.startWatch({ relay: "relay-a", channelId: "C1", userId: "UALICE", intervalMs: 15 * MIN });

describe("a watch's update measures against the last update", () => {
  it("not against a /mailq status run in between", async () => {
    const c = clock();
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const depth: Record<number, number> = { 0: 1000, 13: 700, 15: 600, 20: 500, 30: 300 };
    const s = scheduler(store, c, slack, (m) => ({ deferred: depth[m] ?? -1 }));
    await start(s);
    for (const m of [13, 15, 20, 30]) {
      c.set(T0 + m * MIN);
      if (m === 15 || m === 30) await s.tick();
      // someone runs /mailq status: it stores a snapshot too
      else
        await recordSnapshots(store, [snapOf("relay-a", c.now(), { deferred: depth[m] as number })], c.now());
    }
    const [u1, u2] = progressUpdates(slack.log).map((u) => u.blocks);
    expect(u1).toContain("600 now · 1,000 at the last update · 1,000 at the start");
    expect(u1).toContain("since last (15 minutes ago): total −400");
    expect(u1).toContain(`draining ${(400 / 15).toFixed(1)}/min`);
    expect(u1).toContain("empty in ~22m 30s"); // 600 at 400/15 a minute
    expect(u2).toContain("300 now · 600 at the last update · 1,000 at the start");
    expect(u2).toContain("since last (15 minutes ago): total −300, deferred −300, active ±0, hold ±0");
    expect(u2).toContain("since the incident began (30 minutes ago): total −700, deferred −700");
    expect(u2).toContain("draining 20.0/min");
    // the sparkline covers every stored snapshot since the start: 1000, 700, 600, 500, 300
    expect(u2).toContain("`█▆▅▅▃` total depth since the start");
  });

  it("calls out a new cause and marks how each cause moved since the last update", async () => {
    const c = clock();
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const shapes: Record<number, Shape> = {
      0: { deferred: 900, reasons: [[REFUSED, 900]] },
      15: {
        deferred: 700,
        reasons: [
          [REFUSED, 600],
          [DNS, 100],
        ],
      },
      30: { deferred: 100, reasons: [[DNS, 100]] },
    };
    const s = scheduler(store, c, slack, (m) => shapes[m] ?? "down");
    await start(s);
    for (const m of [15, 30]) {
      c.set(T0 + m * MIN);
      await s.tick();
    }
    const [u1, u2] = progressUpdates(slack.log).map((u) => u.blocks);
    expect(u1).toContain("🆕 *new cause*: Host or domain name not found");
    expect(u1).toContain("• 600 ↓ (was 900) `network` connect to mx.a.tld");
    expect(u1).toContain("• 100 🆕 (was 0) `network` Host or domain name not found");
    expect(u2).not.toContain("new cause");
    expect(u2).toContain("• 100 → (was 100) `network` Host or domain name not found");
    expect(u2).toContain("• 0 ✓ (was 600) `network` connect to mx.a.tld");
  });
});

/** The store as a process sees it that dies right after posting update `seq`, before moving the watch on. */
function dyingAfterPost(store: Store): Store {
  const watches: WatchRepo = Object.create(store.watches);
  watches.update = async (id, version, patch) => {
    if (patch.updates !== undefined) throw new Error("the process died");
    return store.watches.update(id, version, patch);
  };
  return { ...store, watches };
}

describe("a restart in the middle of a watch", () => {
  it("after a post whose process died before moving the watch on: no repeat, and the next comes on time", async () => {
    const c = clock();
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const w = await start(scheduler(store, c, slack, () => ({ deferred: 800 })));
    c.set(T0 + 15 * MIN);
    const dying = scheduler(dyingAfterPost(store), c, slack, () => ({ deferred: 700 }));
    await expect(dying.tick()).resolves.toBeUndefined();
    expect(progressUpdates(slack.log)).toHaveLength(1);
    expect((await store.watches.get(w.id))?.updates).toBe(0);

    // The next process, a few seconds later and again a minute later: update 1 is not posted again.
    const next = scheduler(store, c, slack, () => ({ deferred: 600 }));
    for (const m of [15.1, 16]) {
      c.set(T0 + m * MIN);
      await next.tick();
    }
    expect(progressUpdates(slack.log)).toHaveLength(1);
    expect(await store.watches.get(w.id)).toMatchObject({ updates: 1, nextDueMs: T0 + 30 * MIN });
    c.set(T0 + 29 * MIN);
    await next.tick();
    expect(progressUpdates(slack.log)).toHaveLength(1);
    c.set(T0 + 30 * MIN);
    await next.tick();
    expect(progressUpdates(slack.log).map((u) => u.text.split(":")[0])).toEqual([
      "Progress update 1",
      "Progress update 2",
    ]);
    expect(progressUpdates(slack.log)[1]?.atMs).toBe(T0 + 30 * MIN);
    expect(await store.watches.updateLog(w.id)).toMatchObject([
      { seq: 1, dueMs: T0 + 15 * MIN, posted: true },
      { seq: 2, dueMs: T0 + 30 * MIN, posted: true },
    ]);
  });

  it("after a long outage: one late update, then the cadence from there, none posted twice", async () => {
    const c = clock();
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const w = await start(scheduler(store, c, slack, () => ({ deferred: 800 })));
    // down from before the first update until 50 minutes in
    c.set(T0 + 50 * MIN);
    const next = scheduler(store, c, slack, () => ({ deferred: 700 }));
    await next.tick();
    await next.tick();
    expect(progressUpdates(slack.log)).toHaveLength(1);
    expect((await store.watches.get(w.id))?.nextDueMs).toBe(T0 + 65 * MIN);
  });
});

describe("stopping a watch", () => {
  it("wins over an update that moved the watch on between reading and stopping it", async () => {
    const c = clock();
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, () => ({ deferred: 800 }));
    const w = await start(s);
    c.set(T0 + 15 * MIN);
    // The stop reads the watch, then an update runs before the stop writes.
    const racing: Store = { ...store, watches: Object.create(store.watches) };
    racing.watches.active = async () => {
      const read = await store.watches.active();
      await s.tick();
      return read;
    };
    const stopper = scheduler(racing, c, slack, () => ({ deferred: 800 }));
    const stopped = await stopper.stopWatches({ channelId: "C1", relay: "relay-a", userId: "UBOB" });
    expect(stopped.map((x) => x.id)).toEqual([w.id]);
    expect(await store.watches.get(w.id)).toMatchObject({ status: "stopped", updates: 1 });
    expect(slack.log.at(-1)?.text).toBe("⏹ The watch ended: stopped by <@UBOB>.");
    const audit = await store.audit.list({ limit: 5 });
    expect(audit.filter((e) => e.kind === "watch-stop")).toHaveLength(1);
  });
});

describe("the watch's first message", () => {
  it("is kept current: updates so far and the next due time, then that it ended", async () => {
    const c = clock();
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, (m) => ({ deferred: m >= 15 ? 4 : 800 }));
    await start(s);
    expect(slack.log[0]?.blocks).toContain(
      `0 update(s) so far · next <!date^${(T0 + 15 * MIN) / 1000}^{time}`,
    );
    c.set(T0 + 15 * MIN);
    await s.tick();
    const headerUpdates = slack.log.filter((p) => p.kind === "update");
    expect(headerUpdates.at(-1)?.blocks).toContain(
      `1 update(s) so far · next <!date^${(T0 + 30 * MIN) / 1000}^{time}`,
    );
    c.set(T0 + 30 * MIN);
    await s.tick();
    const last = slack.log.filter((p) => p.kind === "update").at(-1);
    expect(last?.text).toMatch(
      /^Watch of relay-a ended: the queue stayed under 10 for two updates; relay-a: 4 deferred/,
    );
    expect(last?.blocks).toContain("ended after 2 update(s): the queue stayed under 10 for two updates");
  });
});

/** The chat port's refusal for a channel the bot is not in (src/slack/chat.ts classifies Slack's codes). */
const slackError = (code: string) => new NotPostable("C1", code);

describe("a channel the bot cannot post in", () => {
  it.each(["not_in_channel", "channel_not_found", "is_archived"])(
    "%s: the start is refused with what to do, and no watch is left behind",
    async (code) => {
      const c = clock();
      const store = openSqliteStore(":memory:");
      const slack = recordingSlack(c);
      slack.post = async () => {
        throw slackError(code);
      };
      const s = scheduler(store, c, slack, () => ({ deferred: 800 }));
      const err = await start(s).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(describeError(err)).toBe(
        `The bot cannot post in <#C1> (${code}), so a watch there could not post its updates; no watch was started. Invite the bot to the channel (/invite @mailq-bot) and start the watch again`,
      );
      expect(await store.watches.active()).toEqual([]);
    },
  );

  it("the bot removed during a watch: it ends, says why in the store and the audit, and tries no more", async () => {
    const c = clock();
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, () => ({ deferred: 800 }));
    const w = await start(s);
    let attempts = 0;
    slack.post = async () => {
      attempts++;
      throw slackError("not_in_channel");
    };
    const errors: unknown[] = [];
    for (const m of [15, 30]) {
      c.set(T0 + m * MIN);
      await s.tick().catch((e) => errors.push(e));
    }
    expect(errors).toEqual([]);
    expect(attempts).toBe(1);
    expect(await store.watches.get(w.id)).toMatchObject({
      status: "stopped",
      stopReason: "the bot can no longer post in the channel (not_in_channel)",
    });
    const audit = (await store.audit.list({ limit: 5 })).find((e) => e.kind === "watch-stop");
    expect(audit).toMatchObject({ actor: "mailq-bot", requestId: w.id });
  });

  it("another Slack error is not taken for a lost channel: the watch stays and the update is retried", async () => {
    const c = clock();
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const errors: unknown[] = [];
    const s = new WatchScheduler({
      store,
      config,
      collect: async () => [snapOf("relay-a", c.now(), { deferred: 800 })],
      chat: slack,
      nowMs: c.now,
      sleep: c.sleep,
      onError: (e) => errors.push(e),
    });
    const w = await start(s);
    const post = slack.post;
    slack.post = async () => {
      throw new Error("An API error occurred: internal_error");
    };
    c.set(T0 + 15 * MIN);
    await s.tick();
    expect(errors.map((e) => (e as Error).message)).toEqual(["An API error occurred: internal_error"]);
    expect((await store.watches.get(w.id))?.status).toBe("active");
    // the claim goes stale after the longest probe run; then update 1 goes out, once
    slack.post = post;
    c.set(T0 + 15 * MIN + config.probes.listingTimeout + config.probes.timeout + 60_000);
    await s.tick();
    await s.tick();
    expect(progressUpdates(slack.log).map((u) => u.text.split(":")[0])).toEqual(["Progress update 1"]);
  });
});
