import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { labRelayEntry } from "../helpers/lab-relay.js";
import { type FakeSlack, postSigned, slashCommandBody, startFakeSlack } from "../helpers/slack.js";
import {
  fillStandardScenario,
  type LabRelay,
  labExec,
  postqueueJson,
  startRelay,
  waitForQueueSettled,
} from "../lab/lab.js";

const lab = inject("lab");
const MIN = 60_000;
let relay: LabRelay;
let slack: FakeSlack;
let bot: RunningBot;
// The bot's clock: still while the probes run, moved by the test between updates.
let now = Date.now();

beforeAll(async () => {
  relay = await startRelay(lab, "relay-watch");
  await fillStandardScenario(relay);
  const config = parseConfig(
    {
      probes: { timeout: "15s" },
      watch: { drainedBelow: 1 },
      relays: [labRelayEntry(relay, { name: "relay-watch" })],
    },
    "test",
    "/tmp",
  );
  slack = await startFakeSlack();
  bot = await startBot({ config, apiUrl: slack.apiUrl, nowMs: () => now });
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

const threadPosts = (ts: string) =>
  slack
    .callsTo("chat.postMessage")
    .filter(
      (c) => c.body.thread_ts === ts && !c.body.refused && String(c.body.text).startsWith("Progress update"),
    );

describe("/mailq watch against a lab relay", () => {
  it("refuses a bad interval and an unknown relay, starting nothing", async () => {
    for (const [text, msg] of [
      ["watch start relay-watch every 5s", "the interval is at least 1m"],
      ["watch start relay-nope", "unknown relay; known relays: relay-watch"],
      ["watch start every soon", "every takes a duration"],
    ] as const) {
      const r = await postSigned(bot.url, slashCommandBody({ text, response_url: slack.responseUrl() }), {
        secret: SIGNING_SECRET,
      });
      expect(JSON.parse(r.text).text).toContain(msg);
    }
    expect(await bot.store.watches.active()).toEqual([]);
  });

  it("posts updates whose numbers follow the queue as mail is released and deleted", async () => {
    const r = await postSigned(
      bot.url,
      slashCommandBody({
        text: "watch start relay-watch every 15m",
        response_url: slack.responseUrl(),
        channel_id: "CWATCH",
      }),
      { secret: SIGNING_SECRET },
    );
    expect(JSON.parse(r.text).text).toBe("Starting a watch of relay-watch, every 15m…");
    const header = await slack.waitFor(
      "chat.postMessage",
      (c) => c.body.channel === "CWATCH" && String(c.body.text).startsWith("Watching relay-watch"),
    );
    let ts = "";
    for (let i = 0; i < 100 && !ts; i++) {
      ts = (await bot.store.watches.active())[0]?.messageTs ?? "";
      if (!ts) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ts).not.toBe("");
    expect(header.body.thread_ts).toBeUndefined();

    // The operator releases the held mail and deletes the 120 to refused.lab.test.
    await labExec(relay, ["postsuper", "-H", "ALL"]);
    const refused = (await postqueueJson(relay)).filter((e) =>
      e.recipients.every((x) => x.address.endsWith("@refused.lab.test")),
    );
    await labExec(
      relay,
      ["postsuper", "-d", "-", "deferred"],
      `${refused.map((e) => e.queue_id).join("\n")}\n`,
    );
    await waitForQueueSettled(relay);
    const truth = await postqueueJson(relay);

    now += 15 * MIN;
    // A 429 on the first thread post: the Web API client waits Retry-After and tries again.
    let limited = false;
    slack.on("chat.postMessage", (c) => {
      if (!limited && c.body.thread_ts === ts) {
        limited = true;
        c.body.refused = true;
        return { status: 429, headers: { "retry-after": "1" }, body: { ok: false, error: "ratelimited" } };
      }
      return undefined;
    });
    await bot.watches.tick();
    expect(limited).toBe(true);
    const attempts = slack.callsTo("chat.postMessage").filter((c) => c.body.thread_ts === ts);
    expect((attempts[1]?.atMs ?? 0) - (attempts[0]?.atMs ?? 0)).toBeGreaterThanOrEqual(1000);
    const first = threadPosts(ts);
    expect(first).toHaveLength(1);
    const hold = truth.filter((e) => e.queue_name === "hold").length;
    expect(hold).toBe(0);
    expect(String(first[0]?.body.text)).toContain(
      `relay-watch: ${truth.filter((e) => e.queue_name === "deferred").length} deferred`,
    );
    const blocks = JSON.stringify(first[0]?.body.blocks);
    expect(blocks).toContain(`${truth.length} now`);
    expect(blocks).toContain("181 at the start");
    expect(blocks).toMatch(/since last \(15 minutes ago\): total −120, deferred −110, active ±0, hold −10/);

    // The chart went up into the thread.
    const complete = await slack.waitFor("files.completeUploadExternal", (c) => c.body.thread_ts === ts);
    expect(complete.body.channel_id).toBe("CWATCH");
    expect(slack.callsTo("file_upload")[0]?.body.png).toBe(true);
    // The first message is kept current.
    expect(slack.callsTo("chat.update").some((c) => c.body.ts === ts)).toBe(true);

    // Nothing more is due yet; the next update comes a full interval later.
    await bot.watches.tick();
    expect(threadPosts(ts)).toHaveLength(1);
    now += 15 * MIN;
    await bot.watches.tick();
    expect(threadPosts(ts)).toHaveLength(2);
  });

  it("stops on request", async () => {
    const r = await postSigned(
      bot.url,
      slashCommandBody({
        text: "watch stop relay-watch",
        response_url: slack.responseUrl("stop"),
        channel_id: "CWATCH",
      }),
      { secret: SIGNING_SECRET },
    );
    expect(r.status).toBe(200);
    const said = await slack.waitFor("response_url", (c) => c.body.response_url_id === "stop");
    expect(said.body.text).toBe("Stopped 1 watch(es).");
    expect(await bot.store.watches.active()).toEqual([]);
  });
});
