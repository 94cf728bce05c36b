import { describe, expect, it } from "vitest";
import { watch } from "../../commands/watch.js";
import type { Card } from "../../src/cards/status.js";
import type { CommandContext } from "../../src/chat/command.js";
import { route } from "../../src/slack/router.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { WatchScheduler } from "../../src/watch/scheduler.js";
import { closedRelaysConfig } from "../helpers/config.js";
import { clock, MIN, recordingSlack, snapOf, T0 } from "../watch/helpers.js";

const config = closedRelaysConfig(["relay-a", "relay-b"]);
const all = [watch];

describe("/mailq watch arguments", () => {
  it.each([
    ["watch start", { op: "start", relay: null, intervalMs: 15 * MIN }],
    ["watch start relay-a", { op: "start", relay: "relay-a", intervalMs: 15 * MIN }],
    ["watch start relay-b every 5m", { op: "start", relay: "relay-b", intervalMs: 5 * MIN }],
    ["watch start every 1h", { op: "start", relay: null, intervalMs: 60 * MIN }],
    ["watch stop", { op: "stop", relay: "*" }],
    ["watch stop relay-a", { op: "stop", relay: "relay-a" }],
    ["watch list", { op: "list" }],
  ])("%s", (text, args) => {
    const r = route(text, all, config);
    expect(r.ok && r.args).toEqual(args);
  });

  it.each([
    ["watch", "say start, stop or list"],
    ["watch begin", "say start, stop or list"],
    ["watch start relay-z", "unknown relay; known relays: relay-a, relay-b"],
    ["watch start relay-a every", "every takes a duration such as 5m or 15m"],
    ["watch start relay-a every soon", "every takes a duration such as 5m or 15m"],
    ["watch start every 30s", "the interval is at least 1m"],
    ["watch start relay-a every 5m now", 'unexpected "now"'],
    ["watch start relay-a relay-b", 'unexpected "relay-b"'],
    ["watch stop relay-z", "unknown relay; known relays: relay-a, relay-b"],
    ["watch stop relay-a relay-b", "watch stop takes at most one relay name"],
    ["watch list relay-a", "watch list takes no arguments"],
  ])("refuses %s", (text, message) => {
    const r = route(text, all, config);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain(message);
    expect(!r.ok && r.message).toContain("Usage: `/mailq watch start [relay] [every 15m]");
  });
});

function harness(channelId = "C1") {
  const c = clock();
  const store = openSqliteStore(":memory:");
  const slack = recordingSlack(c);
  const watches = new WatchScheduler({
    store,
    config,
    collect: async (relays) => relays.map((r) => snapOf(r.name, c.now(), { deferred: 300 })),
    chat: slack,
    nowMs: c.now,
    sleep: c.sleep,
  });
  const said: string[] = [];
  const ctx = (userId: string): CommandContext => ({
    config,
    pool: undefined as never,
    store,
    chat: { ...slack, whisper: async () => {}, groupMembers: async () => [] },
    watches,
    nowMs: c.now,
    userId,
    channelId,
    post: async (card: Card) => slack.post(channelId, card),
    update: (ts: string, card: Card) => slack.update(channelId, ts, card),
    whisper: async (t: string) => {
      said.push(t);
    },
  });
  const run = async (text: string, userId = "UALICE") => {
    const r = route(text, all, config);
    if (!r.ok) throw new Error(r.message);
    await r.run(ctx(userId));
  };
  return { c, store, slack, said, run };
}

describe("/mailq watch", () => {
  it("starts one watch per relay and channel, says so when one runs, lists and stops", async () => {
    const h = harness();
    await h.run("watch start relay-a every 10m");
    expect(h.slack.log[0]?.text).toBe(
      "Watching relay-a: relay-a: 300 deferred · top cause: connection refused to mx.a.tld (300)",
    );
    await h.run("watch start relay-a", "UBOB");
    expect(h.said.at(-1)).toBe(
      "A watch of relay-a already runs in this channel (started by <@UALICE>, every 10m, 0 update(s) so far); stop it first with `/mailq watch stop relay-a` to start another.",
    );
    expect(await h.store.watches.active()).toHaveLength(1);
    await h.run("watch start");
    h.c.set(T0 + 4 * MIN);
    await h.run("watch list");
    expect(h.said.at(-1)).toBe(
      [
        "• relay-a in <#C1> every 10m, 0 updates, next in 6 minutes",
        "• every relay in <#C1> every 15m, 0 updates, next in 11 minutes",
      ].join("\n"),
    );
    await h.run("watch stop relay-b");
    expect(h.said.at(-1)).toBe(
      "No watch of relay-b runs in this channel; `/mailq watch list` shows the running ones.",
    );
    await h.run("watch stop relay-a", "UBOB");
    expect(h.said.at(-1)).toBe("Stopped 1 watch(es).");
    expect((await h.store.watches.active()).map((w) => w.relay)).toEqual([null]);
    await h.run("watch stop");
    expect(h.said.at(-1)).toBe("Stopped 1 watch(es).");
    await h.run("watch list");
    expect(h.said.at(-1)).toBe("No watch is running.");
  });
});
