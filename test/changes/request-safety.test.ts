import { describe, expect, it } from "vitest";
import { subcommands } from "../../commands/index.js";
import {
  applicable,
  commandText,
  DELETE_RUN_MAX,
  freeze,
  parseSelector,
  requestSchema,
  selectorText,
  selectorWords,
} from "../../src/changes/request.js";
import type { QueueEntry } from "../../src/parsers/postqueue.js";
import { MAX_COMMAND_TEXT, route, tokenize } from "../../src/slack/router.js";
import { closedRelaysConfig } from "../helpers/config.js";

const config = closedRelaysConfig(["relay-a"]);
type Act = "hold" | "release" | "requeue" | "delete" | "retry";
const parse = (action: Act, text: string) => requestSchema(action, config).safeParse(tokenize(text));
const refusal = (action: Act, text: string) => {
  const r = parse(action, text);
  expect(r.success, `${action} ${text} should be refused`).toBe(false);
  return r.success ? "" : r.error.issues.map((i) => i.message).join("; ");
};

const entry = (over: Partial<QueueEntry> = {}): QueueEntry => ({
  queueName: "deferred",
  queueId: "3F1A61A0A1",
  arrivalTime: 1_795_354_370,
  messageSize: 400,
  forcedExpire: false,
  sender: "app@billing.example",
  recipients: [{ address: "u@b.tld", delayReason: "connect to mx.b.tld[192.0.2.1]:25: Connection refused" }],
  ...over,
});

describe("user text that could reach a shell is refused before anything runs", () => {
  it.each([
    [
      "command substitution in a selector",
      "relay-a $(reboot) --ticket INC-1",
      "neither a queue ID nor a selector",
    ],
    ["backticks in a selector", "relay-a `id` --ticket INC-1", "neither a queue ID nor a selector"],
    [
      "a chained command as an ID",
      "relay-a 3F1A61A0A1;rm --ticket INC-1",
      "neither a queue ID nor a selector",
    ],
    ["a pipe in a sender", "relay-a sender:a|b@x.tld --ticket INC-1", "sender: takes an e-mail address"],
    ["a dollar in a sender", "relay-a sender:$USER@x.tld --ticket INC-1", "sender: takes an e-mail address"],
    ["a semicolon in a domain", "relay-a domain:a.tld;reboot --ticket INC-1", "domain: takes a domain name"],
    ["a redirect in reason:", 'relay-a "reason:refused > /etc/passwd" --ticket INC-1', "reason: takes"],
    ["a substitution in the ticket", "relay-a 3F1A61A0A1 --ticket INC-$(id)", "is not a ticket reference"],
    ["a path in the ticket", "relay-a 3F1A61A0A1 --ticket ../../etc", "is not a ticket reference"],
    ["an over-long ticket", `relay-a 3F1A61A0A1 --ticket INC-${"1".repeat(70)}`, "is not a ticket reference"],
    [
      "a substitution in the reason",
      'relay-a 3F1A61A0A1 --ticket INC-1 --reason "$(reboot)"',
      "may not contain",
    ],
    [
      "a chained command in the reason",
      'relay-a 3F1A61A0A1 --ticket INC-1 --reason "x; rm -rf /"',
      "may not contain",
    ],
    ["backticks in the reason", 'relay-a 3F1A61A0A1 --ticket INC-1 --reason "`id`"', "may not contain"],
    ["an over-long reason", `relay-a 3F1A61A0A1 --ticket INC-1 --reason "${"x".repeat(301)}"`, "at most 300"],
    ["an over-long reason: selector", `relay-a "reason:${"x".repeat(201)}" --ticket INC-1`, "reason: takes"],
    ["an unknown option", "relay-a 3F1A61A0A1 --ticket INC-1 --force", 'unknown option "--force"'],
  ])("%s", (_label, text, message) => {
    expect(refusal("hold", text)).toContain(message);
  });

  it("newlines, control characters and over-long text never get past the router", () => {
    const all = subcommands;
    const said = (text: string) => {
      const r = route(text, all, config);
      expect(r.ok).toBe(false);
      return r.ok ? "" : r.message;
    };
    expect(said('hold relay-a 3F1A61A0A1 --ticket INC-1 --reason "a\nb"')).toContain("control characters");
    expect(said("hold relay-a 3F1A61A0A1 --ticket INC-1\u0000")).toContain("control characters");
    expect(said(`hold relay-a ${"3F1A61A0A1 ".repeat(100)} --ticket INC-1`)).toContain(
      `over ${MAX_COMMAND_TEXT} characters`,
    );
    expect(said('hold relay-a 3F1A61A0A1 --ticket INC-1 --reason "open quote')).toContain("not closed");
  });

  it("smart quotes and an em dash for -- (what macOS and phones type) read as typed; other non-ASCII is refused", () => {
    const r = route(
      "hold relay-a 3F1A61A0A1 \u2014ticket INC-1 \u2013reason \u201cloop suspected\u201d",
      subcommands,
      config,
    );
    expect(r.ok).toBe(true);
    expect(r.ok && r.args).toMatchObject({ ticket: "INC-1", reason: "loop suspected" });
    const dashInside = route("hold relay-a domain:a\u2014b.tld --ticket INC-1", subcommands, config);
    expect(dashInside.ok).toBe(false);
    expect(!dashInside.ok && dashInside.message).toContain("non-ASCII");
    const curlyShell = route(
      "hold relay-a 3F1A61A0A1 --ticket INC-1 --reason \u201c$(reboot)\u201d",
      subcommands,
      config,
    );
    expect(!curlyShell.ok && curlyShell.message).toContain("may not contain");
  });

  it("Slack's HTML escapes are undone before checking, so an escaped metacharacter is still refused", () => {
    expect(refusal("hold", 'relay-a 3F1A61A0A1 --ticket INC-1 --reason "a &amp;&amp; b"')).toContain(
      "may not contain",
    );
    expect(refusal("hold", "relay-a domain:a.tld&gt;x --ticket INC-1")).toContain("domain: takes");
  });

  it("a ticket must also match tickets.pattern from the configuration", () => {
    const strict = closedRelaysConfig(["relay-a"], { tickets: { pattern: "^CHG[0-9]{7}$" } });
    const r = requestSchema("hold", strict).safeParse(tokenize("relay-a 3F1A61A0A1 --ticket INC-1"));
    expect(r.success).toBe(false);
    expect(r.success ? "" : r.error.issues[0]?.message).toContain("does not match ^CHG[0-9]{7}$");
    expect(
      requestSchema("hold", strict).safeParse(tokenize("relay-a 3F1A61A0A1 --ticket CHG0001234")).success,
    ).toBe(true);
  });

  it("without --ticket the request parses with no ticket, for the form to ask for one", () => {
    const r = parse("delete", 'relay-a domain:hold.lab.test --reason "junk"');
    expect(r.success && r.data).toMatchObject({ ticket: undefined, reason: "junk" });
  });
});

describe("batches", () => {
  it("reads --batch N --pause D for release and requeue", () => {
    const r = parse("release", "relay-a queue:hold --ticket INC-1 --batch 200 --pause 30s");
    expect(r.success && r.data.batch).toEqual({ size: 200, pauseMs: 30_000 });
    const d = parse("requeue", "relay-a ALL --ticket INC-1 --batch 50");
    expect(d.success && d.data.batch).toEqual({ size: 50, pauseMs: 10_000 });
  });
  it.each([
    ["hold", "relay-a ALL --ticket INC-1 --batch 10", "for release and requeue only"],
    ["delete", "relay-a queue:hold --ticket INC-1 --batch 10", "for release and requeue only"],
    ["release", "relay-a queue:hold --ticket INC-1 --batch 0", "--batch takes a number"],
    ["release", "relay-a queue:hold --ticket INC-1 --batch ten", "--batch takes a number"],
    [
      "release",
      "relay-a queue:hold --ticket INC-1 --batch 10 --pause 2h",
      "--pause takes a duration up to 10m",
    ],
    ["release", "relay-a queue:hold --ticket INC-1 --pause 30s", "--pause goes with --batch"],
  ] as const)("refuses %s %s", (action, text, message) => {
    expect(refusal(action, text)).toContain(message);
  });
});

describe("what a request may touch", () => {
  it("hold skips held mail, release takes only held mail, retry only deferred, requeue keeps held mail unless asked", () => {
    const held = entry({ queueName: "hold" });
    const deferred = entry();
    const active = entry({ queueName: "active" });
    expect([applicable("hold", held, []), applicable("hold", deferred, [])]).toEqual([false, true]);
    expect([applicable("release", held, []), applicable("release", deferred, [])]).toEqual([true, false]);
    expect([
      applicable("retry", deferred, []),
      applicable("retry", active, []),
      applicable("retry", held, []),
    ]).toEqual([true, false, false]);
    expect(applicable("requeue", held, [{ kind: "all" }])).toBe(false);
    expect(applicable("requeue", held, [{ kind: "queue", queue: "hold" }])).toBe(true);
    expect(applicable("delete", held, [])).toBe(true);
  });
});

describe("the command shown is the command run", () => {
  const frozen = [
    freeze(entry({ queueId: "AAAAA11111" })),
    freeze(entry({ queueId: "BBBBB22222" })),
    freeze(entry({ queueId: "CCCCC33333", queueName: "hold" })),
  ];
  it("one postsuper per queue, IDs on stdin", () => {
    expect(commandText("requeue", frozen)).toBe(
      "postsuper -r - deferred  (2 queue IDs on stdin)\npostsuper -r - hold  (1 queue ID on stdin)",
    );
  });
  it("with sudo -n on a sudo relay, batches spelled out, and the archive step before a delete", () => {
    expect(commandText("release", frozen, { sudo: true, batch: { size: 1, pauseMs: 30_000 } })).toBe(
      "sudo -n postsuper -H - deferred  (2 queue IDs on stdin, 1 per run in 2 runs, 30s apart)\nsudo -n postsuper -H - hold  (1 queue ID on stdin)",
    );
    const del = commandText("delete", frozen, { sudo: true, archiveDir: "archive/relay-a/INC-1" }).split(
      "\n",
    );
    expect(del[0]).toBe(
      "sudo -n postcat -q <ID>  → archive/relay-a/INC-1/<ID>-<arrival>.postcat  (each of 3 messages, fsynced, before anything is deleted)",
    );
    expect(del.slice(1)).toEqual([
      "sudo -n postsuper -d - deferred  (2 queue IDs on stdin)",
      "sudo -n postsuper -d - hold  (1 queue ID on stdin)",
    ]);
    expect(commandText("retry", frozen)).toBe("postqueue -i <ID>  (once for each of 3 queue IDs)");
  });
  it("a delete runs at most DELETE_RUN_MAX IDs per postsuper (the relay gate's default --max-delete)", () => {
    const many = Array.from({ length: 2 * DELETE_RUN_MAX + 1 }, (_, i) =>
      freeze(entry({ queueId: `D${String(i).padStart(9, "0")}` })),
    );
    expect(commandText("delete", many).split("\n")[1]).toBe(
      `postsuper -d - deferred  (${2 * DELETE_RUN_MAX + 1} queue IDs on stdin, ${DELETE_RUN_MAX} per run in 3 runs)`,
    );
  });
});

describe("selectors round-trip through words (the ticket form carries them)", () => {
  it.each([
    "3F1A61A0A1",
    "ALL",
    "sender:loop@app.internal",
    "sender:<>",
    "domain:example.com",
    "queue:deferred",
    "older:2h",
    "older:90s",
    "reason:connect to mx.b.tld",
  ])("%s", (word) => {
    const s = parseSelector(word, "hold");
    if (typeof s === "string") throw new Error(s);
    expect(selectorWords([s])).toEqual([word]);
    const again = parseSelector(selectorWords([s])[0] as string, "hold");
    expect(again).toEqual(s);
  });
  it("prints a selector with spaces quoted, as it would be typed", () => {
    expect(
      selectorText([
        { kind: "reason", text: "connection refused" },
        { kind: "queue", queue: "deferred" },
      ]),
    ).toBe('"reason:connection refused" queue:deferred');
  });
});
