import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { type WatchChat, WatchScheduler } from "../../src/watch/scheduler.js";
import { closedRelaysConfig } from "../helpers/config.js";
import { clock, MIN, recordingSlack, snapOf, T0, progressUpdates as updates } from "./helpers.js";

const config = closedRelaysConfig(["relay-a"]);

/** The relay's depth over time, as the probes would report it. */
function scripted(c: { now: () => number }, depthAt: (minute: number) => number | "down") {
  return async () => {
    const d = depthAt(Math.round((c.now() - T0) / MIN));
    return [snapOf("relay-a", c.now(), d === "down" ? "down" : { deferred: d })];
  };
}

function scheduler(
  store: Store,
  c: ReturnType<typeof clock>,
  slack: WatchChat,
  depthAt: (m: number) => number | "down",
) {
  return new WatchScheduler({
    store,
    config,
    collect: scripted(c, depthAt),
    chat: slack,
    nowMs: c.now,
    sleep: c.sleep,
  });
}

describe("the watch scheduler (injected clock)", () => {
  it("posts on schedule, with numbers that follow the queue, and a chart in the thread", async () => {
    const c = clock(T0);
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, (m) => 1000 - m * 10);
    const w = await s.startWatch({
      relay: "relay-a",
      channelId: "C1",
      userId: "UALICE",
      intervalMs: 15 * MIN,
    });
    expect(slack.log[0]).toMatchObject({ kind: "post", channel: "C1", threadTs: undefined });
    c.set(T0 + 14 * MIN);
    await s.tick();
    expect(updates(slack.log)).toHaveLength(0);
    c.set(T0 + 15 * MIN);
    await s.tick();
    expect(updates(slack.log)).toHaveLength(1);
    expect(updates(slack.log)[0]?.text).toBe(
      "Progress update 1: relay-a: 850 deferred · top cause: connection refused to mx.a.tld (850)",
    );
    expect(slack.log.some((p) => p.kind === "png" && p.threadTs === w.messageTs)).toBe(true);
    c.set(T0 + 30 * MIN);
    await s.tick();
    expect(updates(slack.log).map((u) => u.text.split(":")[0])).toEqual([
      "Progress update 1",
      "Progress update 2",
    ]);
    expect(updates(slack.log)[1]?.text).toContain("700 deferred");
    expect((await store.watches.get(w.id))?.nextDueMs).toBe(T0 + 45 * MIN);
  });

  it("continues after a restart with no duplicate and no gap, and two replicas post once", async () => {
    const c = clock(T0);
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const a = scheduler(store, c, slack, () => 500);
    await a.startWatch({ relay: "relay-a", channelId: "C1", userId: "UALICE", intervalMs: 15 * MIN });
    c.set(T0 + 15 * MIN);
    await a.tick();
    await a.stop();
    // a new process, same store
    const b = scheduler(store, c, slack, () => 400);
    await b.tick();
    expect(updates(slack.log)).toHaveLength(1);
    c.set(T0 + 30 * MIN + 5000);
    const other = scheduler(store, c, slack, () => 400);
    await Promise.all([b.tick(), other.tick(), b.tick()]);
    expect(updates(slack.log).map((u) => u.text.split(":")[0])).toEqual([
      "Progress update 1",
      "Progress update 2",
    ]);
  });

  it("posts an update whose claimer died before posting it, once the claim is stale", async () => {
    const c = clock(T0);
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, () => 500);
    const w = await s.startWatch({
      relay: "relay-a",
      channelId: "C1",
      userId: "UALICE",
      intervalMs: 15 * MIN,
    });
    c.set(T0 + 15 * MIN);
    // another process claimed update 1 and died before posting it
    expect(await store.watches.claimUpdate(w.id, 1, w.nextDueMs, c.now())).toBe(true);
    c.set(T0 + 16 * MIN);
    await s.tick();
    expect(updates(slack.log)).toHaveLength(0);
    c.set(T0 + 27 * MIN);
    await s.tick();
    expect(updates(slack.log).map((u) => u.text.split(":")[0])).toEqual(["Progress update 1"]);
    await s.tick();
    expect(updates(slack.log)).toHaveLength(1);
  });

  it("stops by itself once the queue stayed under watch.drainedBelow for two updates, and says so", async () => {
    const c = clock(T0);
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, (m) => (m >= 15 ? 3 : 800));
    const w = await s.startWatch({
      relay: "relay-a",
      channelId: "C1",
      userId: "UALICE",
      intervalMs: 15 * MIN,
    });
    for (const m of [15, 30, 45]) {
      c.set(T0 + m * MIN);
      await s.tick();
    }
    expect(updates(slack.log)).toHaveLength(2);
    expect((await store.watches.get(w.id))?.status).toBe("drained");
    expect(
      slack.log.some((p) =>
        p.text.startsWith("⏹ The watch ended: the queue stayed under 10 for two updates"),
      ),
    ).toBe(true);
  });

  it("reports a relay that fails during the watch and goes on", async () => {
    const c = clock(T0);
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, (m) => (m === 15 ? "down" : 600));
    const w = await s.startWatch({
      relay: "relay-a",
      channelId: "C1",
      userId: "UALICE",
      intervalMs: 15 * MIN,
    });
    c.set(T0 + 15 * MIN);
    await s.tick();
    expect(updates(slack.log)[0]?.text).toContain("relay-a: not answering");
    c.set(T0 + 30 * MIN);
    await s.tick();
    expect(updates(slack.log)[1]?.text).toContain("600 deferred");
    expect((await store.watches.get(w.id))?.status).toBe("active");
  });

  it("stops on request and after watch.maxDuration", async () => {
    const c = clock(T0);
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, () => 500);
    const w = await s.startWatch({
      relay: "relay-a",
      channelId: "C1",
      userId: "UALICE",
      intervalMs: 15 * MIN,
    });
    expect(await s.stopWatches({ channelId: "C2", relay: "*", userId: "UBOB" })).toEqual([]);
    const stopped = await s.stopWatches({ channelId: "C1", relay: "relay-a", userId: "UBOB" });
    expect(stopped.map((x) => x.id)).toEqual([w.id]);
    expect((await store.watches.get(w.id))?.stopReason).toBe("stopped by <@UBOB>");
    c.set(T0 + 15 * MIN);
    await s.tick();
    expect(updates(slack.log)).toHaveLength(0);

    const w2 = await s.startWatch({
      relay: "relay-a",
      channelId: "C1",
      userId: "UALICE",
      intervalMs: 12 * 60 * MIN,
    });
    c.set(T0 + 15 * MIN + 24 * 60 * MIN);
    await s.tick();
    expect((await store.watches.get(w2.id))?.status).toBe("expired");
    const kinds = (await store.audit.list({ limit: 10 })).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["watch-start", "watch-stop"]));
  });

  it("discards the update being collected when the watch is stopped: nothing follows 'ended'", async () => {
    const c = clock(T0);
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    let release: () => void = () => {};
    let collecting: () => void = () => {};
    const started = new Promise<void>((r) => {
      collecting = r;
    });
    let calls = 0;
    const s = new WatchScheduler({
      store,
      config,
      collect: async () => {
        // The first collect (startWatch) answers at once; the update's waits until released.
        if (calls++ > 0) {
          collecting();
          await new Promise<void>((r) => {
            release = r;
          });
        }
        return [snapOf("relay-a", c.now(), { deferred: 500 })];
      },
      chat: slack,
      nowMs: c.now,
      sleep: c.sleep,
    });
    const w = await s.startWatch({
      relay: "relay-a",
      channelId: "C1",
      userId: "UALICE",
      intervalMs: 15 * MIN,
    });
    c.set(T0 + 15 * MIN);
    const tick = s.tick();
    await started;
    const stopped = await s.stopWatches({ channelId: "C1", relay: "relay-a", userId: "UBOB" });
    expect(stopped).toHaveLength(1);
    release();
    await tick;
    expect(updates(slack.log)).toHaveLength(0);
    expect(slack.log.some((p) => p.kind === "png")).toBe(false);
    const endedAt = slack.log.findIndex((p) => p.kind === "post" && p.text.startsWith("⏹ The watch ended"));
    expect(endedAt).toBe(slack.log.length - 1);
    expect(slack.log[endedAt]?.text).toBe("⏹ The watch ended: stopped by <@UBOB>.");
    // The header says who stopped it as a real mention, and its fallback text has the reason.
    const header = slack.log.filter((p) => p.kind === "update").at(-1);
    expect(header?.blocks).toContain("ended after 0 update(s): stopped by <@UBOB>");
    expect(header?.blocks).not.toContain("&lt;@");
    expect(header?.text).toBe("Watch of relay-a ended: stopped by <@UBOB>");
    // The claim of the dropped update is not replayed later by anyone.
    c.set(T0 + 60 * MIN);
    await s.tick();
    expect(updates(slack.log)).toHaveLength(0);
    expect((await store.watches.get(w.id))?.status).toBe("stopped");
  });

  describe("a stop on another replica than the one posting the update", () => {
    /** Two schedulers on one store, as two serve processes; A's update waits at `gate`. */
    async function twoReplicas(gate: "collect" | "post") {
      const c = clock(T0);
      const store = openSqliteStore(":memory:");
      const slack = recordingSlack(c);
      let release: () => void = () => {};
      let reached: () => void = () => {};
      const atGate = new Promise<void>((r) => {
        reached = r;
      });
      const hold = () => {
        reached();
        return new Promise<void>((r) => {
          release = r;
        });
      };
      let collects = 0;
      const slackA: WatchChat = {
        ...slack,
        async post(channel, card, threadTs) {
          if (gate === "post" && card.text.startsWith("Progress update")) await hold();
          return slack.post(channel, card, threadTs);
        },
      };
      // B's waits pass in real time (a millisecond each) and leave the injected clock alone, so
      // only A's settling, never a lapse, can end them.
      const sleep = () => new Promise<void>((r) => setTimeout(r, 1));
      const a = new WatchScheduler({
        store,
        config,
        collect: async () => {
          if (gate === "collect" && collects++ > 0) await hold();
          return [snapOf("relay-a", c.now(), { deferred: 500 })];
        },
        chat: slackA,
        nowMs: c.now,
        sleep: c.sleep,
      });
      const b = new WatchScheduler({
        store,
        config,
        collect: scripted(c, () => 500),
        chat: slack,
        nowMs: c.now,
        sleep,
      });
      const w = await a.startWatch({
        relay: "relay-a",
        channelId: "C1",
        userId: "UALICE",
        intervalMs: 15 * MIN,
      });
      c.set(T0 + 15 * MIN);
      const tick = a.tick();
      await atGate;
      return { slack, store, w, tick, b, release: () => release() };
    }

    const endedLast = (log: { kind: string; text: string }[]) => {
      const at = log.findIndex((p) => p.kind === "post" && p.text.startsWith("⏹ The watch ended"));
      expect(at).toBe(log.length - 1);
    };

    it("an update still being collected is dropped, and 'ended' is the last word", async () => {
      const r = await twoReplicas("collect");
      const stopping = r.b.stopWatches({ channelId: "C1", relay: "relay-a", userId: "UBOB" });
      r.release();
      await r.tick;
      expect(await stopping).toHaveLength(1);
      expect(updates(r.slack.log)).toHaveLength(0);
      endedLast(r.slack.log);
    });

    it("an update already past its check lands first, then 'ended'", async () => {
      const r = await twoReplicas("post");
      const stopping = r.b.stopWatches({ channelId: "C1", relay: "relay-a", userId: "UBOB" });
      // The stopping replica waits for A's claim rather than saying "ended" under it.
      await new Promise((x) => setTimeout(x, 50));
      expect(r.slack.log.some((p) => p.text.startsWith("⏹ The watch ended"))).toBe(false);
      r.release();
      await r.tick;
      expect(await stopping).toHaveLength(1);
      expect(updates(r.slack.log)).toHaveLength(1);
      endedLast(r.slack.log);
    });
  });

  it("keeps one message a second per channel", async () => {
    const c = clock(T0);
    const store = openSqliteStore(":memory:");
    const slack = recordingSlack(c);
    const s = scheduler(store, c, slack, () => 500);
    await s.startWatch({ relay: "relay-a", channelId: "C1", userId: "UALICE", intervalMs: 15 * MIN });
    c.set(T0 + 15 * MIN);
    await s.tick();
    const inC1 = slack.log.filter((p) => p.channel === "C1").map((p) => p.atMs);
    expect(inC1.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < inC1.length; i++)
      expect((inC1[i] as number) - (inC1[i - 1] as number)).toBeGreaterThanOrEqual(1000);
  });
});
