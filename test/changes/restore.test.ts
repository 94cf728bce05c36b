import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { archiveMatches, restoreSchema } from "../../src/changes/restore.js";
import { parseArchivedMessage } from "../../src/parsers/archived-message.js";
import { tokenize } from "../../src/slack/router.js";
import type { ArchivedMessage } from "../../src/store/store.js";
import { closedRelaysConfig } from "../helpers/config.js";

const config = closedRelaysConfig(["relay-a"]);
const parse = (text: string) => restoreSchema(config).safeParse(tokenize(text));

const archived = (over: Partial<ArchivedMessage> = {}): ArchivedMessage => ({
  id: "relay-a/INC-42/076441671B8-1700000000",
  relay: "relay-a",
  ticket: "INC-42",
  requestId: "5f0c7a2e-1111-2222-3333-444455556666",
  queueId: "076441671B8",
  queueName: "deferred",
  arrivalTime: 1_700_000_000,
  sender: "reports@billing.example.internal",
  recipientDomains: ["refused.lab.test"],
  path: "/x",
  bytes: 10,
  sha256: "0".repeat(64),
  archivedAtMs: Date.parse("2026-11-27T20:00:00Z"),
  deletedBy: "UALICE",
  approvedBy: ["UBOB"],
  restore: null,
  prunedAtMs: null,
  ...over,
});

describe("a restore request", () => {
  it("reads selectors over the archive, the new ticket and a reason", () => {
    const r = parse(
      'relay-a ticket:INC-42 request:5f0c7a2e sender:Reports@Billing.example.internal domain:refused.lab.test after:2026-11-27 before:2026-11-28T06:00Z --ticket INC-43 --reason "by mistake"',
    );
    expect(r.success).toBe(true);
    if (!r.success) return;
    expect(r.data).toMatchObject({ relay: "relay-a", ticket: "INC-43", reason: "by mistake" });
    expect(archiveMatches(archived(), r.data.selectors)).toBe(true);
    for (const other of [
      { ticket: "INC-41" },
      { requestId: "6f0c7a2e-0000" },
      { sender: "other@billing.example.internal" },
      { recipientDomains: ["throttle.lab.test"] },
      { archivedAtMs: Date.parse("2026-11-28T07:00:00Z") },
    ])
      expect(archiveMatches(archived(other), r.data.selectors)).toBe(false);
  });

  it.each([
    ["relay-a ticket:INC-42", "a ticket reference is required"],
    ["relay-a --ticket INC-43", "say which archived messages"],
    ["relay-b ticket:INC-42 --ticket INC-43", 'unknown relay "relay-b"'],
    ["relay-a ticket:../etc --ticket INC-43", "is not a ticket reference"],
    ["relay-a request:zz --ticket INC-43", "request: takes a delete request ID"],
    ["relay-a after:friday --ticket INC-43", "after: takes a UTC time"],
    ['relay-a "sender:a|b@x.tld" --ticket INC-43', "sender: takes an e-mail address"],
    ["relay-a ALL --ticket INC-43", "neither an original queue ID nor a selector"],
    ['relay-a ticket:INC-42 --ticket INC-43 --reason "`id`"', "may not contain"],
  ])("refuses %s", (text, says) => {
    const r = parse(text);
    expect(r.success).toBe(false);
    expect(r.success ? "" : r.error.issues.map((i) => i.message).join("; ")).toContain(says);
  });
});

describe("an archived postcat copy back into envelope and message", () => {
  const fixture = readFileSync(new URL("../fixtures/relay-a/postcat-q.txt", import.meta.url));

  it("takes the sender, every pending recipient and the message contents byte for byte", () => {
    const p = parseArchivedMessage(fixture);
    if (typeof p === "string") throw new Error(p);
    expect(p.queueId).toBe("076441671B8");
    expect(p.sender).toBe("reports@billing.example.internal");
    expect(p.recipients).toEqual(["ops@refused.lab.test", "ops@throttle.lab.test", "ops@dnsfail.lab.test"]);
    const text = fixture.toString("latin1");
    const start = text.indexOf("\n", text.indexOf("*** MESSAGE CONTENTS")) + 1;
    expect(p.content.toString("latin1")).toBe(text.slice(start, text.indexOf("*** HEADER EXTRACTED")));
    expect(p.content.toString("latin1")).toMatch(/^Received: /);
  });

  it("keeps 8-bit bytes as they were", () => {
    const withLatin1 = Buffer.concat([
      Buffer.from("*** ENVELOPE RECORDS deferred/ABCDE12345 ***\nsender: \nrecipient: a@x.lab.test\n"),
      Buffer.from("*** MESSAGE CONTENTS deferred/ABCDE12345 ***\nSubject: x\n\ncaf"),
      Buffer.from([0xe9, 0x0a]),
      Buffer.from(
        "*** HEADER EXTRACTED deferred/ABCDE12345 ***\n*** MESSAGE FILE END deferred/ABCDE12345 ***\n",
      ),
    ]);
    const p = parseArchivedMessage(withLatin1);
    if (typeof p === "string") throw new Error(p);
    expect(p.sender).toBe("");
    expect([...p.content.subarray(-2)]).toEqual([0xe9, 0x0a]);
  });

  it("says what is wrong with a copy that is not whole", () => {
    expect(parseArchivedMessage(Buffer.from("hello"))).toMatch(/section marker is missing/);
    const cut = fixture.subarray(0, fixture.indexOf("*** MESSAGE FILE END"));
    expect(parseArchivedMessage(cut)).toMatch(/not whole/);
  });
});
