import { LogLevel } from "@slack/bolt";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { type CommandContext, defineSubcommand, type Need } from "../../src/chat/command.js";
import type { Chat } from "../../src/chat/port.js";
import { RunnerPool } from "../../src/relay/collect.js";
import type { AccessChecker, Asker } from "../../src/slack/access.js";
import { dispatch } from "../../src/slack/dispatch.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { closedRelaysConfig } from "../helpers/config.js";

const config = closedRelaysConfig(["relay-a", "relay-b"]);
const who: Asker = { userId: "UALICE", channelId: "C1", teamId: "T1" };

/** One subcommand that records its runs, with a schema of its own. */
function harness(o: { refuse?: (need: Need, what: string) => string | undefined; fail?: boolean } = {}) {
  const ran: { relay: string; ctx: CommandContext }[] = [];
  const asked: { need: Need; what: string; relay: string | null }[] = [];
  const said: string[] = [];
  const failed: string[] = [];
  const errors: string[] = [];
  const peek = defineSubcommand<{ relay: string }>({
    name: "peek",
    summary: "test",
    usage: "/mailq peek <relay>",
    examples: [],
    access: "view",
    schema: () =>
      z
        .array(z.string())
        .length(1, "peek takes one relay")
        .transform(([relay]) => ({ relay: relay ?? "" })),
    ackText: (a) => `Peeking at ${a.relay}…`,
    async run(a, ctx) {
      ran.push({ relay: a.relay, ctx });
      if (o.fail) throw new Error("the relay hung up");
    },
  });
  const access: AccessChecker = {
    async refusal(_who, need, what, relay = null) {
      asked.push({ need, what, relay });
      return o.refuse?.(need, what);
    },
  };
  const chat: Chat = {
    post: async () => "1.1",
    update: async () => {},
    whisper: async () => {},
    upload: async () => {},
    groupMembers: async () => [],
  };
  const deps = {
    config,
    pool: new RunnerPool({}),
    store: openSqliteStore(":memory:"),
    nowMs: () => 0,
    subcommands: [peek],
    access,
  };
  const answer = {
    ack: async (t: string) => {
      said.push(t);
    },
    failed: async (t: string) => {
      failed.push(t);
    },
    logger: {
      error: (m: string) => errors.push(m),
      warn: () => {},
      info: () => {},
      debug: () => {},
      setLevel: () => {},
      getLevel: () => LogLevel.INFO,
      setName: () => {},
    },
  };
  const run = (typed: { text: string } | { words: string[] }) =>
    dispatch(deps, who, typed, { chat, whisper: answer.ack }, answer);
  return { run, ran, asked, said, failed, errors };
}

describe("one dispatch for typed commands and buttons", () => {
  it("typed text and a button's words run the same subcommand, after the same checks", async () => {
    const typed = harness();
    await typed.run({ text: "peek relay-a" });
    const pressed = harness();
    await pressed.run({ words: ["peek", "relay-a"] });
    for (const h of [typed, pressed]) {
      expect(h.asked).toEqual([
        { need: "any", what: "/mailq", relay: null },
        { need: "view", what: "/mailq peek", relay: "relay-a" },
      ]);
      expect(h.said).toEqual(["Peeking at relay-a…"]);
      expect(h.ran.map((r) => [r.relay, r.ctx.userId, r.ctx.channelId])).toEqual([
        ["relay-a", "UALICE", "C1"],
      ]);
    }
  });

  it("someone the bot does not serve learns nothing, not even the subcommands", async () => {
    const h = harness({
      refuse: (need) => (need === "any" ? "Sorry, this bot does not serve your workspace." : undefined),
    });
    await h.run({ text: "nosuch thing" });
    expect(h.said).toEqual(["Sorry, this bot does not serve your workspace."]);
    expect(h.asked).toHaveLength(1);
    expect(h.ran).toEqual([]);
  });

  it("words the subcommand's schema refuses get its usage, and nothing runs", async () => {
    const h = harness();
    await h.run({ words: ["peek", "relay-a", "extra"] });
    expect(h.said[0]).toContain("peek takes one relay");
    expect(h.said[0]).toContain("Usage: `/mailq peek <relay>`");
    expect(h.ran).toEqual([]);
  });

  it("a role refusal is said instead of the ack, and nothing runs", async () => {
    const h = harness({
      refuse: (need) => (need === "view" ? "Sorry, you are not in access.viewers." : undefined),
    });
    await h.run({ text: "peek relay-b" });
    expect(h.said).toEqual(["Sorry, you are not in access.viewers."]);
    expect(h.ran).toEqual([]);
  });

  it("a failure after the ack reaches the asker and the log, named", async () => {
    const h = harness({ fail: true });
    await h.run({ text: "peek relay-a" });
    expect(h.failed).toEqual(["`/mailq peek` failed: the relay hung up"]);
    expect(h.errors).toEqual(["/mailq peek failed: the relay hung up"]);
  });
});
