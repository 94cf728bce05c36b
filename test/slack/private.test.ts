import { describe, expect, it } from "vitest";
import { channelSafe } from "../../src/slack/private.js";

describe("channelSafe: the last line of defence before a channel", () => {
  it("masks addresses in posts and updates, text and blocks alike; ephemeral answers pass untouched", async () => {
    const seen: [string, Record<string, unknown>][] = [];
    const record = (kind: string) => async (a: Record<string, unknown>) => {
      seen.push([kind, a]);
      return { ok: true, ts: "1.1" };
    };
    const client = {
      chat: { postMessage: record("post"), update: record("update"), postEphemeral: record("ephemeral") },
    };
    const safe = channelSafe(client);
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "from=<alice@corp.example>" } }];
    expect(await safe.chat.postMessage({ channel: "C1", text: "bob@corp.example", blocks })).toEqual({
      ok: true,
      ts: "1.1",
    });
    await safe.chat.update({ channel: "C1", ts: "1.1", text: "x", blocks });
    await safe.chat.postEphemeral({ channel: "C1", user: "U1", text: "alice@corp.example" });
    expect(JSON.stringify(seen[0])).toContain('"text":"b…@corp.example"');
    expect(JSON.stringify(seen[0])).toContain("from=<a…@corp.example>");
    expect(JSON.stringify(seen[1])).not.toContain("alice@");
    expect(seen[2]?.[1].text).toBe("alice@corp.example");
    // Mentions and SSH logins at an IP are not mailboxes.
    await safe.chat.postMessage({ channel: "C1", text: "<@U123> relay-a (root@127.0.0.1:22)" });
    expect(seen[3]?.[1].text).toBe("<@U123> relay-a (root@127.0.0.1:22)");
  });
});
