import { describe, expect, it } from "vitest";
import { commandText, freeze, matches, requestSchema } from "../../src/changes/request.js";
import { parsePostsuper } from "../../src/parsers/postsuper.js";
import { tokenize } from "../../src/slack/router.js";
import { closedRelaysConfig } from "../helpers/config.js";

const config = closedRelaysConfig(["relay-a"]);
const parse = (action: "hold" | "delete" | "retry", text: string) =>
  requestSchema(action, config).safeParse(tokenize(text));
const error = (action: "hold" | "delete" | "retry", text: string) => {
  const r = parse(action, text);
  expect(r.success).toBe(false);
  return r.success ? "" : r.error.issues.map((i) => i.message).join("; ");
};

describe("action requests", () => {
  it("reads relay, selectors, ticket and a quoted reason", () => {
    const r = parse(
      "hold",
      'relay-a 3F1A61A0A1 domain:Example.COM older:2h --ticket INC-42 --reason "spam from a compromised account"',
    );
    expect(r.success && r.data).toEqual({
      action: "hold",
      relay: "relay-a",
      ticket: "INC-42",
      reason: "spam from a compromised account",
      selectors: [
        { kind: "id", id: "3F1A61A0A1" },
        { kind: "domain", domain: "example.com" },
        { kind: "older", ms: 7_200_000 },
      ],
    });
  });

  it("unwraps the mailto links Slack makes of addresses", () => {
    const r = parse("hold", "relay-a sender:<mailto:loop@app.internal|loop@app.internal> --ticket INC-1");
    expect(r.success && r.data.selectors).toEqual([{ kind: "sender", address: "loop@app.internal" }]);
  });

  it.each([
    ["--ticket without a value", "hold", "relay-a 3F1A61A0A1 --ticket", "--ticket takes a ticket reference"],
    ["--ticket followed by an option", "hold", "relay-a 3F1A61A0A1 --ticket --reason x", "--ticket takes"],
    [
      "a malformed ticket",
      "hold",
      "relay-a 3F1A61A0A1 --ticket inc42",
      "does not match ^[A-Z][A-Z0-9]+-[0-9]+$",
    ],
    [
      "a ticket with metacharacters",
      "hold",
      "relay-a 3F1A61A0A1 --ticket INC-1;rm",
      "is not a ticket reference",
    ],
    ["ALL for delete", "delete", "relay-a ALL --ticket INC-1", "never for delete"],
    ["ALL for retry", "retry", "relay-a ALL --ticket INC-1", "never for retry"],
    ["no selector", "hold", "relay-a --ticket INC-1", "say which messages"],
    ["an unknown relay", "hold", "relay-z ALL --ticket INC-1", 'unknown relay "relay-z"'],
    [
      "a shell word as selector",
      "hold",
      "relay-a $(reboot) --ticket INC-1",
      "neither a queue ID nor a selector",
    ],
    ["a bad domain", "hold", "relay-a domain:ex;ample.com --ticket INC-1", "domain: takes a domain name"],
    ["a bad queue", "hold", "relay-a queue:everything --ticket INC-1", "queue: takes one of"],
    ["a bad duration", "hold", "relay-a older:soon --ticket INC-1", "older: takes a duration"],
    [
      "an over-long reason",
      "hold",
      `relay-a ALL --ticket INC-1 --reason "${"x".repeat(301)}"`,
      "at most 300",
    ],
    ["ALL with more", "hold", "relay-a ALL domain:a.tld --ticket INC-1", "ALL stands alone"],
  ] as const)("refuses %s", (_l, action, text, msg) => {
    expect(error(action, text)).toContain(msg);
  });

  it("matches on every selector at once", () => {
    const e = {
      queueName: "deferred",
      queueId: "ABCDEF1234",
      arrivalTime: 1000,
      messageSize: 1,
      forcedExpire: false,
      sender: "App@Billing.example",
      recipients: [
        {
          address: "u@b.tld",
          delayReason:
            "delivery temporarily suspended: connect to mx.b.tld[192.0.2.1]:25: Connection refused",
        },
      ],
    };
    const sel = (text: string) => {
      const r = parse("hold", `relay-a ${text} --ticket INC-1`);
      if (!r.success) throw new Error(r.error.message);
      return r.data.selectors;
    };
    expect(matches(e, sel("domain:b.tld queue:deferred"), 5000)).toBe(true);
    expect(matches(e, sel("sender:app@billing.example"), 5000)).toBe(true);
    expect(matches(e, sel('"reason:connect to mx.b.tld"'), 5000)).toBe(true);
    expect(matches(e, sel("reason:suspended"), 5000)).toBe(false);
    expect(matches(e, sel("older:1h"), 1000 + 3599)).toBe(false);
    expect(matches(e, sel("older:1h"), 1000 + 3600)).toBe(true);
    expect(matches(e, sel("domain:b.tld queue:hold"), 5000)).toBe(false);
    expect(matches(e, sel("ABCDEF1234 BBBBBB1234"), 5000)).toBe(true);
    expect(commandText("hold", [freeze(e)])).toBe("postsuper -h - deferred  (1 queue ID on stdin)");
  });
});

describe("postsuper's output", () => {
  it("gives the outcome per ID and the summary, which exit 0 does not", () => {
    const out = parsePostsuper(
      "postsuper: 3F1A61A0A1: placed on hold\npostsuper: 4B2B72B1B2: placed on hold\npostsuper: Placed on hold: 2 messages\n",
    );
    expect([...out.perId]).toEqual([
      ["3F1A61A0A1", "placed on hold"],
      ["4B2B72B1B2", "placed on hold"],
    ]);
    expect(out.summary).toEqual(["Placed on hold: 2 messages"]);
    expect(parsePostsuper("").perId.size).toBe(0);
  });
});
