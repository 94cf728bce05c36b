import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePostcat, postcatFields } from "../../src/parsers/postcat.js";
import { parsePostsuper } from "../../src/parsers/postsuper.js";

const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, "../changes/fixtures", name), "utf8");

describe("postsuper's stderr, as the lab's Postfix printed it", () => {
  it("hold: one line per ID it acted on, a warning for a malformed ID, nothing for an unknown one, and the summary", () => {
    const p = parsePostsuper(fixture("postsuper-hold.txt"));
    expect([...p.perId]).toEqual([
      ["3077517E9B6", "placed on hold"],
      ["3811617E9DA", "placed on hold"],
      ["3467617E9D5", "placed on hold"],
    ]);
    expect(p.perId.has("0000000AAAA")).toBe(false);
    expect(p.warnings).toEqual(["invalid mail queue id: not/valid"]);
    expect(p.summary).toEqual(["Placed on hold: 3 messages"]);
    expect(p.counts.get("Placed on hold")).toBe(3);
    expect(p.fatal).toBeUndefined();
  });

  it.each([
    ["postsuper-release.txt", "released from hold", "Released from hold", 3],
    ["postsuper-requeue.txt", "requeued", "Requeued", 3],
    ["postsuper-delete.txt", "removed", "Deleted", 2],
  ])("%s", (file, perId, verb, n) => {
    const p = parsePostsuper(fixture(file));
    expect(p.perId.size).toBe(n);
    expect(new Set(p.perId.values())).toEqual(new Set([perId]));
    expect(p.counts.get(verb)).toBe(n);
    expect(p.summary).toEqual([`${verb}: ${n} message${n === 1 ? "" : "s"}`]);
  });

  it("nothing matched still exits 0; the summary says 0 and no ID is named", () => {
    const p = parsePostsuper(fixture("postsuper-hold-none.txt"));
    expect(p.perId.size).toBe(0);
    expect(p.counts.get("Placed on hold")).toBe(0);
  });

  it("a fatal error is kept", () => {
    expect(parsePostsuper(fixture("postsuper-fatal.txt")).fatal).toBe("invalid directory name: bogus");
  });

  it("ignores what it does not know and lines that only look alike", () => {
    const p = parsePostsuper(
      "postsuper: 3077517E9B6: placed on hold; rm -rf /\nsomething else\npostsuper: ../x: removed\n\n",
    );
    expect(p.perId.size).toBe(0);
    expect(p.summary).toEqual([]);
  });
});

describe("postcat -q, as the lab's Postfix printed it", () => {
  it("a deferred message: envelope and the message's own headers, unfolded; hashed queue path understood", () => {
    const p = parsePostcat(fixture("postcat-deferred.txt"));
    expect(p).toMatchObject({
      queueName: "deferred",
      queueId: "3077517E9B6",
      sender: "noreply@shop.example.internal",
      recipients: ["user30@throttle.lab.test"],
      arrivalTime: "Sun Nov 22 13:32:50 2026",
      size: 439,
    });
    expect(p.headers).toMatchObject({
      from: "noreply@shop.example.internal",
      to: "user30@throttle.lab.test",
      subject: "throttle #30",
      "message-id": "<mwrvmxzu.27488.150@lab.test>",
    });
    expect(p.headers.received).toBe(
      "from client.lab.test (unknown [127.0.0.1]) by relay-a.lab.test (Postfix) with ESMTP id 3077517E9B6 for <user30@throttle.lab.test>; Sun, 22 Nov 2026 13:32:50 +0000 (UTC)",
    );
    expect(p.headers["x-lab-scenario"]).toBeUndefined();
  });

  it("a held message, flattened for the audit", () => {
    expect(postcatFields(parsePostcat(fixture("postcat-hold.txt")))).toMatchObject({
      queue: "hold",
      sender: "newsletter@news.lab.test",
      recipient: "user6@hold.lab.test",
      subject: "hold #6",
    });
  });

  it("never reads the body, even when it looks like a header", () => {
    const text = fixture("postcat-hold.txt").replace(
      "This message was injected",
      "Subject: not a header\nCc: nobody@example.com\nThis message was injected",
    );
    const p = parsePostcat(text);
    expect(p.headers.subject).toBe("hold #6");
    expect(p.headers.cc).toBeUndefined();
  });
});
