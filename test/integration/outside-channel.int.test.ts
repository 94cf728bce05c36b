/**
 * A queue change asked for in a channel the bot is not in: Slack refuses chat.postMessage
 * (not_in_channel), so the approval card goes through the command's response URL, in the
 * channel, and its buttons work from there. All over signed HTTP, against a lab relay.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { labRelayEntry } from "../helpers/lab-relay.js";
import {
  buttonPressBody,
  type FakeSlack,
  postSigned,
  type SlackCall,
  slashCommandBody,
  startFakeSlack,
  ticketFormBody,
} from "../helpers/slack.js";
import { type LabRelay, postqueueJson, sendMail, startRelay, waitForQueueSettled } from "../lab/lab.js";

const lab = inject("lab");
const OUTSIDE = "COUTSIDE";
let relay: LabRelay;
let slack: FakeSlack;
let bot: RunningBot;
/** response_url ids whose in-channel posts Slack refuses. */
const refuseInChannel = new Set<string>();

beforeAll(async () => {
  relay = await startRelay(lab, "relay-outside");
  await sendMail(relay, { from: "app@billing.example.internal", to: ["u@refused.lab.test"] }, 4);
  await waitForQueueSettled(relay);
  slack = await startFakeSlack();
  const notIn = (c: SlackCall) =>
    c.body.channel === OUTSIDE ? { body: { ok: false, error: "not_in_channel" } } : undefined;
  slack.on("chat.postMessage", notIn);
  slack.on("chat.postEphemeral", notIn);
  slack.on("chat.update", notIn);
  slack.on("response_url", (c) =>
    refuseInChannel.has(String(c.body.response_url_id)) && c.body.response_type === "in_channel"
      ? { status: 404, body: "no_service" }
      : undefined,
  );
  bot = await startBot({
    config: parseConfig(
      {
        probes: { timeout: "15s" },
        access: { approvers: ["UBOB", "UCAROL"] },
        relays: [labRelayEntry(relay, { name: "relay-out" })],
      },
      "test",
      "/tmp",
    ),
    apiUrl: slack.apiUrl,
  });
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

const deferred = async () =>
  (await postqueueJson(relay)).filter((e) => e.queue_name === "deferred").map((e) => e.queue_id);

async function ask(text: string, responseId: string): Promise<void> {
  const r = await postSigned(
    bot.url,
    slashCommandBody({ text, channel_id: OUTSIDE, response_url: slack.responseUrl(responseId) }),
    { secret: SIGNING_SECRET },
  );
  expect(r.status).toBe(200);
}

/** What the bot said through one response URL, in order. */
const said = (id: string) => slack.callsTo("response_url").filter((c) => c.body.response_url_id === id);

async function press(user: string, id: string, responseId: string) {
  const r = await postSigned(
    bot.url,
    buttonPressBody({
      user,
      actionId: "mailq_approve",
      blockId: `mailq_approval:${id}`,
      value: id,
      responseUrl: slack.responseUrl(responseId),
      channel: OUTSIDE,
    }),
    { secret: SIGNING_SECRET },
  );
  expect(r.status).toBe(200);
  const answer = await slack.waitFor(
    "response_url",
    (c) => c.body.response_url_id === responseId && c.body.response_type === "ephemeral",
    30_000,
  );
  return String(answer.body.text);
}

describe("a request in a channel the bot is not in", () => {
  it("posts the card through the response URL, in the channel; an approval from there runs it exactly once", async () => {
    const ids = (await deferred()).slice(0, 2);
    await ask(`hold relay-out ${ids.join(" ")} --ticket INC-301`, "cmd-1");
    const card = await slack.waitFor(
      "response_url",
      (c) => c.body.response_url_id === "cmd-1" && c.body.response_type === "in_channel",
      30_000,
    );
    const blocks = JSON.stringify(card.body.blocks);
    expect(blocks).toContain("mailq_approve");
    const id = /"value":"([0-9a-f-]{36})"/.exec(blocks)?.[1] ?? "";
    const pending = await bot.store.approvals.get(id);
    expect(pending).toMatchObject({ status: "pending", channelId: OUTSIDE, messageTs: null });
    await slack.waitFor(
      "response_url",
      (c) => c.body.response_url_id === "cmd-1" && c.body.response_type === "ephemeral",
    );
    expect(String(said("cmd-1").at(-1)?.body.text)).toMatch(/^Request posted for approval: 2 message\(s\)/);

    // Two approvers press at the same moment, each on the card in that channel.
    const answers = await Promise.all([press("UBOB", id, "press-bob"), press("UCAROL", id, "press-carol")]);
    expect(answers.filter((a) => a === "Request done.")).toHaveLength(1);
    expect(answers.filter((a) => a !== "Request done.")).toEqual([
      expect.stringMatching(/Someone acted on that request first|already (executing|done)/),
    ]);
    const queue = new Map((await postqueueJson(relay)).map((e) => [e.queue_id, e.queue_name]));
    for (const q of ids) expect(queue.get(q)).toBe("hold");
    const executions = (await bot.store.audit.list({ ticket: "INC-301", limit: 50 })).filter(
      (e) => e.kind === "execute",
    );
    expect(executions).toHaveLength(1);
    expect((await bot.store.approvals.get(id))?.status).toBe("done");

    // The card itself was replaced through the winning press's response URL: result shown, no buttons.
    const winner = answers[0] === "Request done." ? "press-bob" : "press-carol";
    const last = said(winner)
      .filter((c) => c.body.replace_original === true)
      .at(-1);
    expect(JSON.stringify(last?.body.blocks)).toContain("2 of 2 now on hold");
    expect(JSON.stringify(last?.body.blocks)).not.toContain("mailq_approve");

    // A late press changes nothing.
    expect(await press("UBOB", id, "press-late")).toBe("That request is already done; nothing was done.");
    expect(
      (await bot.store.audit.list({ ticket: "INC-301", limit: 50 })).filter((e) => e.kind === "execute"),
    ).toHaveLength(1);
  });

  it("when even the response URL refuses the card: says how to invite the bot, and leaves no pending request", async () => {
    refuseInChannel.add("cmd-2");
    const before = await deferred();
    await ask(`hold relay-out ${before[0]} --ticket INC-302`, "cmd-2");
    const answer = await slack.waitFor(
      "response_url",
      (c) => c.body.response_url_id === "cmd-2" && c.body.response_type === "ephemeral",
      30_000,
    );
    expect(String(answer.body.text)).toMatch(
      /^The approval card could not be posted here, so nothing was requested: the bot cannot post in this channel \(not_in_channel\), and Slack refused the message through the command's response URL too .*Invite the bot to this channel \(`\/invite @mailq-bot`\)/,
    );
    expect((await bot.store.approvals.pending()).filter((r) => r.ticket === "INC-302")).toEqual([]);
    const trail = await bot.store.audit.list({ ticket: "INC-302", limit: 10 });
    expect(trail.map((e) => [e.kind, e.actor]).sort()).toEqual([
      ["cancel", "mailq-bot"],
      ["request", "UALICE"],
    ]);
    expect(JSON.stringify(trail.find((e) => e.kind === "cancel")?.detail)).toContain("no approval card");
    expect(await deferred()).toEqual(before);
  });

  it("a request typed without a ticket: the form's card goes through the command's response URL too", async () => {
    const [target] = await deferred();
    const opened = slack.callsTo("views.open").length;
    await ask(`hold relay-out ${target}`, "cmd-3");
    const open = await slack.waitFor("views.open", () => slack.callsTo("views.open").length > opened);
    const view = open.body.view as { callback_id: string; private_metadata: string };
    const submitted = await postSigned(bot.url, ticketFormBody({ view, ticket: "INC-303" }), {
      secret: SIGNING_SECRET,
    });
    expect(submitted.status).toBe(200);
    const card = await slack.waitFor(
      "response_url",
      (c) => c.body.response_url_id === "cmd-3" && c.body.response_type === "in_channel",
      30_000,
    );
    const id = /"value":"([0-9a-f-]{36})"/.exec(JSON.stringify(card.body.blocks))?.[1] ?? "";
    expect(await bot.store.approvals.get(id)).toMatchObject({ status: "pending", ticket: "INC-303" });
    const told = await slack.waitFor(
      "response_url",
      (c) =>
        c.body.response_url_id === "cmd-3" && String(c.body.text).startsWith("Request posted for approval"),
    );
    expect(told.body.response_type).toBe("ephemeral");
    expect(await press("UBOB", id, "press-form")).toBe("Request done.");
    expect((await postqueueJson(relay)).find((e) => e.queue_id === target)?.queue_name).toBe("hold");
  });
});
