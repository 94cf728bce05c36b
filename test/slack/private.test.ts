import { webApi } from "@slack/bolt";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slackChat } from "../../src/slack/chat.js";

beforeAll(() => {
  nock.disableNetConnect();
});
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe("the Slack chat: the last line of defence before a channel", () => {
  it("masks addresses in posts and updates, text and blocks alike; whispers pass untouched", async () => {
    const seen: [string, Record<string, string>][] = [];
    nock("https://slack.com")
      .persist()
      .post(/\/api\/chat\.(postMessage|update|postEphemeral)/)
      .reply((uri, body) => {
        seen.push([uri, Object.fromEntries(new URLSearchParams(String(body)))]);
        return [200, { ok: true, ts: "1.1" }];
      });
    const chat = slackChat(new webApi.WebClient("xoxb-test", { retryConfig: { retries: 0 } }));
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "from=<alice@corp.example>" } }];
    expect(await chat.post("C1", { text: "bob@corp.example", blocks })).toBe("1.1");
    await chat.update("C1", "1.1", { text: "x", blocks });
    await chat.whisper("C1", "U1", "alice@corp.example");
    expect(seen.map(([uri]) => uri)).toEqual([
      "/api/chat.postMessage",
      "/api/chat.update",
      "/api/chat.postEphemeral",
    ]);
    expect(seen[0]?.[1].text).toBe("b…@corp.example");
    expect(seen[0]?.[1].blocks).toContain("from=<a…@corp.example>");
    expect(JSON.stringify(seen[1])).not.toContain("alice@");
    expect(seen[2]?.[1].text).toBe("alice@corp.example");
    // Mentions and SSH logins at an IP are not mailboxes.
    await chat.post("C1", { text: "<@U123> relay-a (root@127.0.0.1:22)", blocks: [] });
    expect(seen[3]?.[1].text).toBe("<@U123> relay-a (root@127.0.0.1:22)");
  });
});
