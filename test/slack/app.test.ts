import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { closedRelaysConfig } from "../helpers/config.js";
import { type FakeSlack, postSigned, slashCommandBody, startFakeSlack } from "../helpers/slack.js";

const config = closedRelaysConfig(["relay-a", "relay-b"]);

let slack: FakeSlack;
let bot: RunningBot;

beforeAll(async () => {
  slack = await startFakeSlack();
  bot = await startBot({ config, apiUrl: slack.apiUrl });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

const command = (text: string) => slashCommandBody({ text, response_url: slack.responseUrl() });

describe("the Slack app over signed HTTP", () => {
  it("refuses a request with a bad signature", async () => {
    const r = await postSigned(bot.url, command("status"), {
      secret: SIGNING_SECRET,
      signature: "v0=deadbeef",
    });
    expect(r.status).toBe(401);
    expect(slack.callsTo("chat.postMessage")).toHaveLength(0);
  });

  it("refuses a request signed with another secret", async () => {
    const r = await postSigned(bot.url, command("status"), { secret: "someone-elses-secret" });
    expect(r.status).toBe(401);
  });

  it("refuses a replayed request older than five minutes", async () => {
    const r = await postSigned(bot.url, command("help"), {
      secret: SIGNING_SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(r.status).toBe(401);
  });

  it.each([
    [
      "an unknown subcommand",
      "frobnicate",
      /Unknown subcommand `frobnicate`.*status, triage, watch, hold, release, requeue, delete, retry, restore, inspect, audit, help.*relay-a, relay-b/s,
    ],
    ["an unknown relay", "status relay-z", /unknown relay; known relays: relay-a, relay-b/],
    ["two relays", "status relay-a relay-b", /at most one relay/],
    ["shell metacharacters", "status relay-a; rm -rf /", /at most one relay|unknown relay/],
    ["command substitution", "status $(reboot)", /unknown relay/],
    ["a newline", "status\nrelay-a", /characters the bot does not accept/],
    ["over-long text", "x".repeat(1200), /too long/],
  ])("answers %s with a clear ephemeral error and runs nothing", async (_label, text, expected) => {
    const before = slack.calls.length;
    const r = await postSigned(bot.url, command(text), { secret: SIGNING_SECRET });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(body.response_type).toBe("ephemeral");
    expect(body.text).toMatch(expected);
    await new Promise((res) => setTimeout(res, 100));
    expect(slack.calls.slice(before).filter((c) => c.method !== "auth.test")).toEqual([]);
  });

  it("lists every subcommand with examples for help", async () => {
    const r = await postSigned(bot.url, command("help"), { secret: SIGNING_SECRET });
    const body = JSON.parse(r.text);
    expect(body.response_type).toBe("ephemeral");
    expect(body.text).toContain("/mailq status [relay]");
    expect(body.text).toContain("e.g. `/mailq status relay-a`");
  });
});
