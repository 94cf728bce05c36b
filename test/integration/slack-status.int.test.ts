import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { firstCardWithinMs, fullCardWithinMs } from "../helpers/deadlines.js";
import { labRelayEntry } from "../helpers/lab-relay.js";
import { type FakeSlack, postSigned, slashCommandBody, startFakeSlack } from "../helpers/slack.js";
import { completeStatusCard } from "../helpers/status-card.js";
import type { LabRelay } from "../lab/lab.js";

const lab = inject("lab");
const relayA = lab.relays.find((r) => r.name === "relay-a") as LabRelay;

let slack: FakeSlack;
let bot: RunningBot;
let config: ReturnType<typeof parseConfig>;

let blackHole: Server;
const holes = new Set<Socket>();

beforeAll(async () => {
  blackHole = createServer((socket) => holes.add(socket));
  await new Promise<void>((r) => blackHole.listen(0, "127.0.0.1", r));
  const slowPort = (blackHole.address() as AddressInfo).port;
  config = parseConfig(
    {
      probes: { timeout: "5s", listingTimeout: "20s" },
      relays: [labRelayEntry(relayA), labRelayEntry(relayA, { name: "relay-slow", port: slowPort })],
    },
    "test",
    "/tmp",
  );
  slack = await startFakeSlack();
  bot = await startBot({ config, apiUrl: slack.apiUrl });
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await new Promise<void>((r) => {
    for (const s of holes) s.destroy();
    blackHole.close(() => r());
  });
});

describe("/mailq status in Slack against the lab relay", () => {
  it("acks at once even when a relay hangs, then posts the card in the channel", async () => {
    const body = slashCommandBody({
      text: "status",
      response_url: slack.responseUrl("status-1"),
      channel_id: "CINC1",
    });
    const r = await postSigned(bot.url, body, { secret: SIGNING_SECRET });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(3000);
    expect(JSON.parse(r.text)).toMatchObject({
      response_type: "ephemeral",
      text: "Probing 2 relays (read-only)…",
    });

    const { post, card } = await completeStatusCard(slack, "CINC1", config);
    expect(post.headers.authorization).toBe("Bearer xoxb-lab-token");
    const text = String(card.body.text);
    expect(text).toMatch(/^relay-a: \d+ deferred · \d+ on hold · top cause: /m);
    expect(text).toMatch(
      /^relay-slow: not answering · relay-slow \(root@127\.0\.0\.1:\d+\): no SSH answer in time/m,
    );
    const blocks = card.body.blocks as { type: string }[];
    // A fleet: its totals first, then the relays worst first (the one not answering leads).
    expect(text.split("\n")[0]).toMatch(
      /^Fleet of 2 relays: 🔴 1 not answering · 🟠 1 with mail waiting or trouble$/,
    );
    const sections = blocks.map((b) => String((b as { text?: { text?: string } }).text?.text ?? ""));
    expect(sections[0]).toMatch(/^\*Fleet of 2 relays: .*\*\n[\d,]+ deferred · \d+ active · \d+ on hold/);
    const slowAt = sections.findIndex((x) => x.startsWith("🔴 *relay-slow: not answering"));
    const aAt = sections.findIndex((x) => x.startsWith("🟠 *relay-a: "));
    expect(slowAt).toBeGreaterThan(0);
    expect(aAt).toBeGreaterThan(slowAt);
    expect(blocks.length).toBeGreaterThan(3);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(blocks)).toContain("Top deferral reasons");
    expect(JSON.stringify(blocks)).not.toMatch(/user\d+@refused\.lab\.test/);
  });

  it("falls back to the response URL where the bot is not in the channel", async () => {
    slack.on("chat.postMessage", (c) =>
      c.body.channel === "CPRIVATE" ? { body: { ok: false, error: "not_in_channel" } } : undefined,
    );
    const body = slashCommandBody({
      text: "status relay-a",
      response_url: slack.responseUrl("private-1"),
      channel_id: "CPRIVATE",
    });
    const r = await postSigned(bot.url, body, { secret: SIGNING_SECRET });
    expect(r.status).toBe(200);
    // Through the response URL a partial card cannot be updated in place: the complete one follows it.
    const resp = await slack.waitFor(
      "response_url",
      (c) =>
        c.body.response_url_id === "private-1" &&
        c.body.response_type === "in_channel" &&
        !JSON.stringify(c.body.blocks).includes("⏳ partial"),
      fullCardWithinMs(config),
    );
    expect(String(resp.body.text)).toMatch(/^relay-a: \d+ deferred/);
  });

  it("posts a partial card at the first-answer point, then updates that same card in place when the listing is done", async () => {
    const earlyConfig = parseConfig(
      {
        probes: { timeout: "5s", listingTimeout: "20s", firstAnswerAfter: "0s" },
        relays: [labRelayEntry(relayA)],
      },
      "test",
      "/tmp",
    );
    const early = await startBot({ config: earlyConfig, apiUrl: slack.apiUrl });
    try {
      const body = slashCommandBody({
        text: "status relay-a",
        response_url: slack.responseUrl("status-partial"),
        channel_id: "CINCPART",
      });
      expect((await postSigned(early.url, body, { secret: SIGNING_SECRET })).status).toBe(200);
      const post = await slack.waitFor(
        "chat.postMessage",
        (c) => c.body.channel === "CINCPART",
        firstCardWithinMs(earlyConfig),
      );
      expect(JSON.stringify(post.body.blocks)).toContain("⏳ partial:");
      const ts = (post.response as { ts?: string }).ts;
      expect(ts).toMatch(/^\d+\.\d+$/);
      const update = await slack.waitFor(
        "chat.update",
        (c) =>
          c.body.channel === "CINCPART" &&
          c.body.ts === ts &&
          !JSON.stringify(c.body.blocks).includes("⏳ partial"),
        fullCardWithinMs(earlyConfig),
      );
      expect(String(update.body.text)).toMatch(/^relay-a: \d+ deferred/m);
      expect(JSON.stringify(update.body.blocks)).not.toContain("⏳ partial:");
      // One card in the channel: the update replaced it rather than posting another.
      expect(slack.callsTo("chat.postMessage").filter((c) => c.body.channel === "CINCPART")).toHaveLength(1);
    } finally {
      await early.stop();
    }
  });
});
