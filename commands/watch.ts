import * as z from "zod";
import { defineSubcommand } from "../src/chat/command.js";
import type { Config } from "../src/config.js";
import { formatDuration, parseDuration, relativeTo } from "../src/util/duration.js";

type WatchArgs =
  | { op: "start"; relay: string | null; intervalMs: number }
  | { op: "stop"; relay: string | "*" }
  | { op: "list" };

const MIN_INTERVAL_MS = 60_000;

function parseWatch(words: string[], config: Config, ctx: z.RefinementCtx): WatchArgs | typeof z.NEVER {
  const names = config.relays.map((r) => r.name);
  const fail = (message: string) => {
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  };
  const [op, ...rest] = words;
  if (op === "list") return rest.length ? fail("watch list takes no arguments") : { op: "list" };
  if (op === "stop") {
    if (rest.length > 1) return fail("watch stop takes at most one relay name");
    const relay = rest[0];
    if (relay !== undefined && !names.includes(relay))
      return fail(`unknown relay; known relays: ${names.join(", ")}`);
    return { op: "stop", relay: relay ?? "*" };
  }
  if (op !== "start") return fail("say start, stop or list");
  let relay: string | null = null;
  let intervalMs = config.watch.interval;
  const r = [...rest];
  if (r[0] !== undefined && r[0] !== "every") {
    if (!names.includes(r[0])) return fail(`unknown relay; known relays: ${names.join(", ")}`);
    relay = r.shift() as string;
  }
  if (r[0] === "every") {
    const ms = r[1] === undefined ? undefined : parseDuration(r[1]);
    if (ms === undefined) return fail("every takes a duration such as 5m or 15m");
    if (ms < MIN_INTERVAL_MS) return fail("the interval is at least 1m");
    intervalMs = ms;
    r.splice(0, 2);
  }
  if (r.length) return fail(`unexpected "${r[0]?.slice(0, 30)}"`);
  return { op: "start", relay, intervalMs };
}

export const watch = defineSubcommand<WatchArgs>({
  name: "watch",
  summary: "Progress updates in this channel every interval until the queue drains",
  access: "view",
  usage: "/mailq watch start [relay] [every 15m] | watch stop [relay] | watch list",
  examples: ["/mailq watch start relay-a every 15m", "/mailq watch stop relay-a", "/mailq watch list"],
  schema: (config) => z.array(z.string()).transform((words, ctx) => parseWatch(words, config, ctx)),
  ackText: (a) =>
    a.op === "start"
      ? `Starting a watch of ${a.relay ?? "every relay"}, every ${formatDuration(a.intervalMs)}…`
      : a.op === "stop"
        ? "Stopping…"
        : "Watches:",
  async run(a, ctx) {
    const w = ctx.watches;
    if (!w) {
      await ctx.whisper("Watches are not running in this bot process.");
      return;
    }
    if (a.op === "start") {
      const running = (await w.list()).find((x) => x.channelId === ctx.channelId && x.relay === a.relay);
      if (running) {
        await ctx.whisper(
          `A watch of ${a.relay ?? "every relay"} already runs in this channel (started by <@${running.createdBy}>, every ${formatDuration(running.intervalMs)}, ${running.updates} update(s) so far); stop it first with \`/mailq watch stop${a.relay ? ` ${a.relay}` : ""}\` to start another.`,
        );
        return;
      }
      await w.startWatch({
        relay: a.relay,
        channelId: ctx.channelId,
        userId: ctx.userId,
        intervalMs: a.intervalMs,
      });
      return;
    }
    if (a.op === "stop") {
      const stopped = await w.stopWatches({ channelId: ctx.channelId, relay: a.relay, userId: ctx.userId });
      await ctx.whisper(
        stopped.length
          ? `Stopped ${stopped.length} watch(es).`
          : `No watch of ${a.relay === "*" ? "any relay" : a.relay} runs in this channel; \`/mailq watch list\` shows the running ones.`,
      );
      return;
    }
    const all = await w.list();
    const lines = all.map(
      (x) =>
        `• ${x.relay ?? "every relay"} in <#${x.channelId}> every ${formatDuration(x.intervalMs)}, ${x.updates} updates, next ${relativeTo(Math.max(x.nextDueMs, ctx.nowMs()), ctx.nowMs())}`,
    );
    await ctx.whisper(lines.length ? lines.join("\n") : "No watch is running.");
  },
});
