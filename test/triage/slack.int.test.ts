import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { TRIAGE_ACTIONS } from "../../src/cards/triage.js";
import { type Config, parseConfig } from "../../src/config.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { firstCardWithinMs, triageWithinMs } from "../helpers/deadlines.js";
import { labRelayEntry } from "../helpers/lab-relay.js";
import {
  buttonPressBody,
  type FakeSlack,
  postSigned,
  type SlackCall,
  slashCommandBody,
  startFakeSlack,
} from "../helpers/slack.js";
import { LAB_DOMAINS, type LabRelay, sendMail, startRelay, waitForQueueSettled } from "../lab/lab.js";

const lab = inject("lab");
let relay: LabRelay;
let slack: FakeSlack;
let bot: RunningBot;
let config: Config;

beforeAll(async () => {
  relay = await startRelay(lab, "triage-slack");
  await sendMail(relay, { from: "app@billing.example.internal", to: [`a@${LAB_DOMAINS.refused}`] }, 6);
  await sendMail(relay, { from: "app@billing.example.internal", to: [`b@${LAB_DOMAINS.throttle}`] }, 2);
  await waitForQueueSettled(relay);
  config = parseConfig(
    {
      // What the Status button posts is read whole here: with the first answer at the probe deadline,
      // a loaded machine still gets the complete card rather than a partial one, updated later.
      probes: { timeout: "10s", firstAnswerAfter: "10s" },
      access: { inspectors: ["UALICE"] },
      relays: [labRelayEntry(relay, { resolver: "127.0.0.1" })],
    },
    "test",
    "/tmp",
  );
  slack = await startFakeSlack();
  bot = await startBot({ config, apiUrl: slack.apiUrl });
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

type Block = { type: string; text?: { text: string }; elements?: { action_id: string; value: string }[] };

async function press(actionId: string, value: string, channel = "CINCIDENT"): Promise<number> {
  const n = slack.calls.length;
  const r = await postSigned(
    bot.url,
    buttonPressBody({
      user: "UALICE",
      actionId,
      blockId: "mailq_triage_next_0",
      value,
      channel,
      responseUrl: slack.responseUrl(`press-${channel}`),
    }),
    { secret: SIGNING_SECRET },
  );
  expect(r.status).toBe(200);
  return n;
}

const since = (n: number) => (c: SlackCall) => slack.calls.indexOf(c) >= n;

describe("/mailq triage in Slack, against a lab relay", () => {
  let buttons: { action_id: string; value: string }[] = [];

  it("acks at once, then posts the card: findings by impact, evidence, lever, next-step buttons", async () => {
    const n = slack.calls.length;
    const r = await postSigned(
      bot.url,
      slashCommandBody({
        text: `triage ${relay.name}`,
        response_url: slack.responseUrl("t1"),
        channel_id: "CINCIDENT",
      }),
      { secret: SIGNING_SECRET },
    );
    expect(JSON.parse(r.text)).toMatchObject({
      response_type: "ephemeral",
      text: `Running the first-ten-minutes checklist on ${relay.name} (read-only)…`,
    });
    const card = await slack.waitFor("chat.postMessage", since(n), triageWithinMs(config));
    const blocks = card.body.blocks as Block[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    const texts = blocks.map((b) => b.text?.text ?? "");
    expect(texts[0]).toMatch(/^\*Triage of triage-slack\* \(read-only\): 2 findings, largest first/);
    expect(texts[1]).toMatch(
      /^\*1\. 🔌 The relay cannot connect to failing destinations: refused\.lab\.test holds 75% of the queue\* {2}· {2}`network` {2}· {2}75% of the queue/,
    );
    expect(texts[1]).toMatch(
      /nc -vz -w 3 127\.0\.0\.1 \d+ \(refused\.lab\.test\): connect to 127\.0\.0\.1 port \d+ \(tcp\) failed: Connection refused/,
    );
    expect(texts[1]).toMatch(
      /➡️ \*One destination holds 75% of the queue \(refused\.lab\.test\): lower its concurrency or isolate it/,
    );
    expect(texts[2]).toMatch(
      /^\*2\. 🐢 Remote sites throttle or greylist \(4xx\)\* {2}· {2}`remote-throttling` {2}· {2}25% of the queue/,
    );
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(3000);
    buttons = blocks.find((b) => b.type === "actions")?.elements ?? [];
    expect(buttons.map((b) => b.action_id)).toEqual([
      TRIAGE_ACTIONS.status,
      TRIAGE_ACTIONS.inspect,
      TRIAGE_ACTIONS.watch,
    ]);
  }, 60_000);

  it("'Status' posts the relay's status card", async () => {
    const b = buttons.find((x) => x.action_id === TRIAGE_ACTIONS.status);
    const n = await press(TRIAGE_ACTIONS.status, b?.value ?? "");
    const card = await slack.waitFor("chat.postMessage", since(n), firstCardWithinMs(config));
    expect(String(card.body.text)).toMatch(/triage-slack: 8 deferred/);
  }, 60_000);

  it("'Status' where the bot is not in the channel posts through the press's response URL", async () => {
    slack.on("chat.postMessage", (c) =>
      c.body.channel === "CPRIVATE" ? { body: { ok: false, error: "not_in_channel" } } : undefined,
    );
    const b = buttons.find((x) => x.action_id === TRIAGE_ACTIONS.status);
    const n = await press(TRIAGE_ACTIONS.status, b?.value ?? "", "CPRIVATE");
    const resp = await slack.waitFor(
      "response_url",
      (c) =>
        since(n)(c) && c.body.response_url_id === "press-CPRIVATE" && c.body.response_type === "in_channel",
      firstCardWithinMs(config),
    );
    expect(String(resp.body.text)).toMatch(/triage-slack: 8 deferred/);
    expect(resp.body.replace_original).toBe(false);
  }, 60_000);

  it("'Inspect' shows the sample message's envelope to the presser only", async () => {
    const b = buttons.find((x) => x.action_id === TRIAGE_ACTIONS.inspect);
    const { queueId } = JSON.parse(b?.value ?? "{}") as { queueId: string };
    const n = await press(TRIAGE_ACTIONS.inspect, b?.value ?? "");
    const said = await slack.waitFor(
      "chat.postEphemeral",
      (c) => since(n)(c) && String(c.body.text).startsWith(`*${queueId}* on triage-slack`),
      30_000,
    );
    expect(said.body.user).toBe("UALICE");
    expect(String(said.body.text)).toMatch(/app@billing\.example\.internal/);
  }, 60_000);

  it("'Start a watch' starts one for the relay", async () => {
    const b = buttons.find((x) => x.action_id === TRIAGE_ACTIONS.watch);
    const n = await press(TRIAGE_ACTIONS.watch, b?.value ?? "");
    const header = await slack.waitFor("chat.postMessage", since(n), 30_000);
    expect(header.body.channel).toBe("CINCIDENT");
    // the scheduler stores the watch right after posting its header
    for (
      let i = 0;
      i < 50 && !(await bot.store.watches.active()).some((w) => w.relay === "triage-slack");
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    expect((await bot.store.watches.active()).map((w) => w.relay)).toContain("triage-slack");
  }, 60_000);

  it.each([
    ["an unknown relay", TRIAGE_ACTIONS.status, JSON.stringify({ relay: "relay-z" })],
    [
      "a hostile queue ID",
      TRIAGE_ACTIONS.inspect,
      JSON.stringify({ relay: "triage-slack", queueId: "A1;rm -rf /" }),
    ],
    [
      "an extra field",
      TRIAGE_ACTIONS.status,
      JSON.stringify({ relay: "triage-slack", argv: ["postsuper", "-d", "ALL"] }),
    ],
    ["not JSON", TRIAGE_ACTIONS.status, "triage-slack"],
  ])("ignores a press with %s and runs nothing", async (_l, action, value) => {
    const n = await press(action, value);
    await new Promise((r) => setTimeout(r, 500));
    expect(slack.calls.slice(n).filter((c) => c.method !== "auth.test")).toEqual([]);
  });
});
