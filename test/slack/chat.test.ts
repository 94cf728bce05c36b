import { webApi } from "@slack/bolt";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NotPostable, notPostable } from "../../src/chat/port.js";
import { describeError, isMailqError } from "../../src/errors.js";
import { slackChat } from "../../src/slack/chat.js";
import { SLACK_RETRY, webClientOptions } from "../../src/slack/client.js";

// Unit tests of the Slack Web API's behaviour under the chat port: nothing leaves the process.
const API = "https://slack.com";
const card = { text: "Queue on relay-a: 3 deferred (bob@example.com)", blocks: [] };

/** A client as serve builds one: the product's retry policy. */
function client() {
  return new webApi.WebClient("xoxb-test", {
    ...webClientOptions(undefined),
    logLevel: webApi.LogLevel.ERROR,
  });
}

/** Slack's form-encoded request body, as an object. */
const form = (body: unknown) => Object.fromEntries(new URLSearchParams(String(body)));

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe("the Slack chat on the Web API", () => {
  it("waits out a 429's Retry-After and sends the message again, once", async () => {
    const at: number[] = [];
    const bodies: Record<string, string>[] = [];
    nock(API)
      .post("/api/chat.postMessage")
      .reply((_uri, body) => {
        at.push(Date.now());
        bodies.push(form(body));
        return [429, { ok: false, error: "ratelimited" }, { "Retry-After": "1" }];
      })
      .post("/api/chat.postMessage")
      .reply((_uri, body) => {
        at.push(Date.now());
        bodies.push(form(body));
        return [200, { ok: true, channel: "C1", ts: "1700000000.000100" }];
      });
    const web = client();
    const limited: number[] = [];
    web.on(webApi.WebClientEvent.RATE_LIMITED, (retryAfterSec: number) => limited.push(retryAfterSec));
    const ts = await slackChat(web).post("C1", card);
    expect(ts).toBe("1700000000.000100");
    expect(limited).toEqual([1]);
    expect(at).toHaveLength(2);
    // The retry went out no sooner than the header asked, and the policy allows it a retry at all.
    const [first = 0, second = 0] = at;
    expect(second - first).toBeGreaterThanOrEqual((limited[0] ?? 0) * 1000 - 5);
    expect(SLACK_RETRY.retries).toBeGreaterThanOrEqual(1);
    // The same message both times, and no mailbox in either.
    expect(bodies[1]?.text).toBe(bodies[0]?.text);
    expect(bodies[0]?.text).toContain("relay-a");
    expect(bodies[0]?.text).not.toContain("bob@example.com");
    expect(nock.isDone()).toBe(true);
  });

  it("uploads a chart in Slack's three steps: upload URL, the bytes, then complete in the thread", async () => {
    const png = Buffer.from("\x89PNG\r\n\x1a\n fake chart bytes");
    const steps: string[] = [];
    let uploaded = "";
    let completed: Record<string, string> | undefined;
    nock(API)
      .post("/api/files.getUploadURLExternal", (body) => {
        steps.push("getUploadURLExternal");
        return body.filename === "queue-depth-1.png" && Number(body.length) === png.length;
      })
      .reply(200, { ok: true, upload_url: "https://files.slack.com/upload/v1/abc", file_id: "F123" });
    nock("https://files.slack.com")
      .post("/upload/v1/abc")
      .reply((_uri, body) => {
        steps.push("upload");
        uploaded = String(body);
        return [200, "OK - 23"];
      });
    nock(API)
      .post("/api/files.completeUploadExternal", (body) => {
        steps.push("completeUploadExternal");
        completed = body;
        return true;
      })
      .reply(200, { ok: true, files: [{ id: "F123" }] });
    await slackChat(client()).upload("C1", "1700000000.000100", {
      filename: "queue-depth-1.png",
      title: "Queue depth since the start (update 1)",
      data: png,
    });
    expect(steps).toEqual(["getUploadURLExternal", "upload", "completeUploadExternal"]);
    // The bytes themselves go to the upload URL (Slack's SDK sends them as a form's file field).
    expect(uploaded).toContain(" fake chart bytes");
    expect(completed?.channel_id).toBe("C1");
    expect(completed?.thread_ts).toBe("1700000000.000100");
    expect(JSON.parse(completed?.files ?? "[]")).toEqual([
      { id: "F123", title: "Queue depth since the start (update 1)" },
    ]);
    expect(nock.isDone()).toBe(true);
  });

  it.each(["not_in_channel", "channel_not_found", "is_archived"])(
    "%s: classified as not postable, saying what to do",
    async (code) => {
      nock(API).post("/api/chat.postMessage").reply(200, { ok: false, error: code });
      const e = await slackChat(client())
        .post("C1", card)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NotPostable);
      expect(notPostable(e)).toBe(code);
      expect(describeError(e)).toBe(
        `the bot cannot post in <#C1> (${code}). Invite the bot to the channel (/invite @mailq-bot), or unarchive it`,
      );
    },
  );

  it.each(["token_revoked", "invalid_auth"])(
    "%s: an error a person can act on, not taken for a channel problem",
    async (code) => {
      nock(API).post("/api/chat.update").reply(200, { ok: false, error: code });
      const e = await slackChat(client())
        .update("C1", "1700000000.000100", card)
        .catch((x: unknown) => x);
      expect(notPostable(e)).toBeUndefined();
      expect(isMailqError(e) && e.code).toBe("SLACK_API");
      expect(describeError(e)).toBe(
        `Slack refused the bot's token (${code}). Reinstall the app to the workspace (or copy its current Bot User OAuth Token) into SLACK_BOT_TOKEN and restart mailq-bot`,
      );
    },
  );

  it("any other refusal passes as Slack said it", async () => {
    nock(API).post("/api/chat.postEphemeral").reply(200, { ok: false, error: "user_not_in_channel" });
    const e = await slackChat(client())
      .whisper("C1", "UALICE", "only for you")
      .catch((x: unknown) => x);
    expect(notPostable(e)).toBeUndefined();
    expect(describeError(e)).toContain("user_not_in_channel");
  });

  it("reads a user group's members", async () => {
    nock(API)
      .post("/api/usergroups.users.list", (body) => body.usergroup === "S0LEADS")
      .reply(200, { ok: true, users: ["UALICE", "UBOB"] });
    expect(await slackChat(client()).groupMembers("S0LEADS")).toEqual(["UALICE", "UBOB"]);
  });
});
