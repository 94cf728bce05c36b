import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { postedRequest } from "../helpers/approvals.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { requestCardWithinMs } from "../helpers/deadlines.js";
import { asGate, labRelayEntry } from "../helpers/lab-relay.js";
import {
  type FakeSlack,
  postSigned,
  pressApproval,
  type SlackCall,
  slashCommandBody,
  startFakeSlack,
  ticketFormBody,
} from "../helpers/slack.js";
import { fillStandardScenario, type LabRelay, labExec, postqueueJson, startRelay } from "../lab/lab.js";

// A relay of its own: these tests change its queue. Everything goes through the real Bolt app
// over signed HTTP and real SSH to a real Postfix; only Slack's Web API is a loopback fake.
const lab = inject("lab");
let relay: LabRelay;
let slack: FakeSlack;
let bot: RunningBot;
let gated: RunningBot;
const dir = mkdtempSync(join(tmpdir(), "mailq-actions2-"));

function config(o: { gate?: boolean } = {}) {
  return parseConfig(
    {
      probes: { timeout: "15s" },
      access: { approvers: ["UBOB", "UCAROL"] },
      archive: { path: join(dir, o.gate ? "archive-gate" : "archive") },
      relays: [
        labRelayEntry(relay, o.gate ? { name: "relay-gated", ...asGate(relay) } : { name: "relay-act2" }),
      ],
    },
    "test",
    dir,
  );
}

beforeAll(async () => {
  relay = await startRelay(lab, "relay-act2");
  await fillStandardScenario(relay);
  slack = await startFakeSlack();
  bot = await startBot({
    config: config(),
    apiUrl: slack.apiUrl,
    store: openSqliteStore(join(dir, "a.sqlite")),
  });
  gated = await startBot({
    config: config({ gate: true }),
    apiUrl: slack.apiUrl,
    store: openSqliteStore(join(dir, "b.sqlite")),
  });
});

afterAll(async () => {
  for (const b of [bot, gated]) {
    await b?.stop();
    await b?.store.close();
  }
  await slack?.close();
});

const queueOf = async () => new Map((await postqueueJson(relay)).map((e) => [e.queue_id, e.queue_name]));

async function idsIn(queue: string, domain: string, n: number): Promise<string[]> {
  const ids = (await postqueueJson(relay))
    .filter((e) => e.queue_name === queue && e.recipients.every((r) => r.address.endsWith(`@${domain}`)))
    .slice(0, n)
    .map((e) => e.queue_id);
  expect(ids).toHaveLength(n);
  return ids;
}

async function slash(b: RunningBot, text: string, user = "UALICE"): Promise<string> {
  const r = await postSigned(
    b.url,
    slashCommandBody({ text, user_id: user, response_url: slack.responseUrl(`cmd-${Date.now()}`) }),
    { secret: SIGNING_SECRET },
  );
  expect(r.status).toBe(200);
  return JSON.parse(r.text).text as string;
}

/** The request a slash command (or form) created, once its card is posted. */
async function newRequest(b: RunningBot, before: Set<string>): Promise<string> {
  return (await postedRequest(b.store.approvals, (x) => !before.has(x.id), requestCardWithinMs(config()))).id;
}

async function request(b: RunningBot, text: string): Promise<string> {
  const before = new Set((await b.store.approvals.pending()).map((r) => r.id));
  expect(await slash(b, text)).toMatch(/^Resolving .* to exact queue IDs \(read-only\)…$/);
  return newRequest(b, before);
}

const press = (
  b: RunningBot,
  id: string,
  user: string,
  action: "approve" | "reject" | "cancel" = "approve",
) => pressApproval(slack, { url: b.url, secret: SIGNING_SECRET }, { id, user, action, timeoutMs: 60_000 });

async function cardUpdates(b: RunningBot, id: string): Promise<string[]> {
  const ts = (await b.store.approvals.get(id))?.messageTs;
  return slack
    .callsTo("chat.update")
    .filter((c) => c.body.ts === ts)
    .map((c) => JSON.stringify(c.body.blocks));
}

describe("acting on a lab relay, beyond the basics", () => {
  it("asks for a missing ticket in a form, then holds exactly the IDs frozen at request time", async () => {
    const ids = await idsIn("deferred", "refused.lab.test", 2);
    const opened = slack.callsTo("views.open").length;
    expect(await slash(bot, `hold relay-act2 ${ids.join(" ")} --reason "loop suspected"`)).toContain(
      "a ticket reference is required",
    );
    await slack.waitFor("views.open", () => slack.callsTo("views.open").length > opened);
    const view = (slack.callsTo("views.open").at(-1) as SlackCall).body.view as {
      callback_id: string;
      private_metadata: string;
    };
    expect((await bot.store.approvals.pending()).length).toBe(0);

    const before = new Set((await bot.store.approvals.pending()).map((r) => r.id));
    const submitted = await postSigned(
      bot.url,
      ticketFormBody({ view, ticket: "INC-201", reason: "loop suspected" }),
      { secret: SIGNING_SECRET },
    );
    expect(submitted.status).toBe(200);
    const id = await newRequest(bot, before);
    const r = await bot.store.approvals.get(id);
    expect(r).toMatchObject({ ticket: "INC-201", reason: "loop suspected", requester: "UALICE" });
    expect(r?.frozen.map((f) => f.queueId).sort()).toEqual([...ids].sort());
    // The form's outcome reaches the requester after the request exists; wait for it so the
    // presses below read their own answers.
    await slack.waitFor(
      "chat.postEphemeral",
      (c) => c.body.user === "UALICE" && String(c.body.text).startsWith("Request posted for approval"),
    );

    expect(await press(bot, id, "UALICE")).toContain("your own request");
    expect(await press(bot, id, "UBOB")).toBe("Request done.");
    const q = await queueOf();
    for (const i of ids) expect(q.get(i)).toBe("hold");
    expect((await cardUpdates(bot, id)).at(-1)).toContain("2 of 2 now on hold");
  });

  it("releases in batches with a pause, with progress on the card, and returns every ID", async () => {
    const ids = await idsIn("deferred", "throttle.lab.test", 5);
    await labExec(relay, ["postsuper", "-h", "-", "deferred"], `${ids.join("\n")}\n`);
    const id = await request(
      bot,
      `release relay-act2 ${ids.join(" ")} --ticket INC-202 --batch 2 --pause 1s`,
    );
    const r = await bot.store.approvals.get(id);
    expect(r?.command).toBe("postsuper -H - hold  (5 queue IDs on stdin, 2 per run in 3 runs, 1s apart)");
    const t0 = Date.now();
    expect(await press(bot, id, "UCAROL")).toBe("Request done.");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_000);
    const q = await queueOf();
    for (const i of ids) expect(q.get(i)).not.toBe("hold");
    const updates = await cardUpdates(bot, id);
    expect(updates.some((u) => u.includes("*Progress*: run 1 of 3 · 2 of 5 IDs sent"))).toBe(true);
    expect(updates.some((u) => u.includes("*Progress*: run 2 of 3 · 4 of 5 IDs sent"))).toBe(true);
    expect(updates.at(-1)).toContain("5 of 5 out of hold");
    const exec = (await bot.store.audit.list({ ticket: "INC-202", limit: 10 })).find(
      (e) => e.kind === "execute",
    );
    const out = (exec?.detail.result as { output: string[] } | undefined)?.output ?? [];
    expect(out.filter((l) => /^postsuper: Released from hold: \d messages?$/.test(l))).toEqual([
      "postsuper: Released from hold: 2 messages",
      "postsuper: Released from hold: 2 messages",
      "postsuper: Released from hold: 1 message",
    ]);
  });

  it("reports an ID that left the queue after the request and never replaces it", async () => {
    const ids = await idsIn("deferred", "dnsfail.lab.test", 3);
    const id = await request(
      bot,
      `hold relay-act2 domain:dnsfail.lab.test ${ids.join(" ")} --ticket INC-203`,
    );
    const gone = ids[0] as string;
    await labExec(relay, ["postsuper", "-d", "-", "deferred"], `${gone}\n`);
    expect(await press(bot, id, "UBOB")).toBe("Request done.");
    const q = await queueOf();
    expect(q.has(gone)).toBe(false);
    for (const i of ids.slice(1)) expect(q.get(i)).toBe("hold");
    const last = (await cardUpdates(bot, id)).at(-1);
    expect(last).toContain("2 of 2 now on hold");
    expect(last).toContain(`\`${gone}\` left the queue since the request`);
    // No other dnsfail message was taken in its place.
    const held = [...q].filter(([, name]) => name === "hold").map(([i]) => i);
    const dnsfailHeld = (await postqueueJson(relay)).filter(
      (e) => held.includes(e.queue_id) && e.recipients.every((r) => r.address.endsWith("@dnsfail.lab.test")),
    );
    expect(dnsfailHeld.map((e) => e.queue_id).sort()).toEqual(ids.slice(1).sort());
  });

  it("an ID that now names another message (Postfix reuses short IDs) is skipped, and that message left alone", async () => {
    const [target] = (await postqueueJson(relay)).filter(
      (e) =>
        e.queue_name === "deferred" && e.recipients.every((r) => r.address.endsWith("@throttle.lab.test")),
    );
    if (!target) throw new Error("no deferred throttle.lab.test message in the lab relay");
    // The request froze the message this ID named an hour earlier; the relay now holds another one under it.
    const r = await bot.store.approvals.create({
      id: randomUUID(),
      relay: "relay-act2",
      action: "hold",
      selector: target.queue_id,
      ticket: "INC-204",
      reason: "",
      requester: "UALICE",
      channelId: "CINCIDENT",
      messageTs: "1700000000.000204",
      createdAtMs: Date.now(),
      expiresAtMs: Date.now() + 15 * 60_000,
      frozen: [
        {
          queueId: target.queue_id,
          queueName: "deferred",
          arrivalTime: target.arrival_time - 3600,
          sender: target.sender,
          recipientDomains: ["throttle.lab.test"],
        },
      ],
      command: "postsuper -h - deferred  (1 queue ID on stdin)",
    });
    expect(await press(bot, r.id, "UBOB")).toBe("Request done.");
    expect((await queueOf()).get(target.queue_id)).toBe("deferred");
    const done = await bot.store.approvals.get(r.id);
    expect(done?.result).toMatchObject({
      skipped: [
        {
          queueId: target.queue_id,
          why: "the ID now names another message (Postfix reused it): arrival time or sender differ",
        },
      ],
      outcomes: [],
    });
  });

  it("/mailq audit <ticket> shows the trail of that ticket to the asker", async () => {
    const r = await postSigned(
      bot.url,
      slashCommandBody({
        text: "audit INC-203",
        user_id: "UDAVE",
        response_url: slack.responseUrl("audit-203"),
      }),
      { secret: SIGNING_SECRET },
    );
    expect(JSON.parse(r.text).text).toBe("Reading the audit trail…");
    const said = await slack.waitFor("response_url", (c) => c.body.response_url_id === "audit-203");
    expect(said.body.response_type).toBe("ephemeral");
    const text = String(said.body.text);
    expect(text).toContain("*Audit of INC-203*");
    expect(text).toMatch(
      /\*execute\* by <@UBOB> on relay-act2 ticket INC-203 .* hold 2 of 2 now on hold · 1 skipped/,
    );
    expect(text).toMatch(/\*request\* by <@UALICE> .* → 3 IDs/);
  });

  it("refuses shell metacharacters, newlines and over-long text before anything runs; the queue is unchanged", async () => {
    const before = await queueOf();
    const pending = (await bot.store.approvals.pending()).length;
    const audited = (await bot.store.audit.list({ limit: 1000 })).length;
    for (const [text, says] of [
      ["hold relay-act2 $(postsuper -d ALL) --ticket INC-204", "neither a queue ID nor a selector"],
      ["hold relay-act2 domain:refused.lab.test --ticket INC-204;reboot", "is not a ticket reference"],
      ['hold relay-act2 domain:refused.lab.test --ticket INC-204 --reason "`rm -rf /`"', "may not contain"],
      ['delete relay-act2 "sender:a|b@x.tld" --ticket INC-204', "sender: takes an e-mail address"],
      ["hold relay-act2 domain:refused.lab.test\n--ticket INC-204", "characters the bot does not accept"],
      [`hold relay-act2 ${"domain:refused.lab.test ".repeat(60)}--ticket INC-204`, "too long"],
      ["delete relay-act2 ALL --ticket INC-204", "never for delete"],
    ] as const)
      expect(await slash(bot, text)).toContain(says);
    expect((await bot.store.approvals.pending()).length).toBe(pending);
    expect((await bot.store.audit.list({ limit: 1000 })).length).toBe(audited);
    expect(await queueOf()).toEqual(before);
  });

  it("two bot replicas on one store, pressed at once by two approvers, run the request once", async () => {
    const replica = await startBot({
      config: config(),
      apiUrl: slack.apiUrl,
      store: openSqliteStore(join(dir, "a.sqlite")),
    });
    try {
      const ids = await idsIn("deferred", "refused.lab.test", 2);
      const id = await request(bot, `requeue relay-act2 ${ids.join(" ")} --ticket INC-207`);
      const answers = await Promise.all([press(bot, id, "UBOB"), press(replica, id, "UCAROL")]);
      expect(answers.filter((a) => a === "Request done.")).toHaveLength(1);
      expect(
        answers.filter((a) => a.startsWith("Someone acted on that request first") || a.includes("already")),
      ).toHaveLength(1);
      const trail = await bot.store.audit.list({ ticket: "INC-207", limit: 50 });
      expect(trail.filter((e) => e.kind === "execute")).toHaveLength(1);
      expect(trail.filter((e) => e.kind === "approve")).toHaveLength(1);
      const result = trail.find((e) => e.kind === "execute")?.detail.result as { summary: string[] };
      expect(result.summary).toEqual(["deferred: Requeued: 2 messages"]);
    } finally {
      await replica.stop();
      await replica.store.close();
    }
  });

  it("deletes nothing when the archive cannot be written", async () => {
    const ids = await idsIn("hold", "hold.lab.test", 2);
    const id = await request(bot, `delete relay-act2 ${ids.join(" ")} --ticket INC-205`);
    // The card calls the approvers (the notification's text too) and asks before a delete.
    const card = slack
      .callsTo("chat.postMessage")
      .find((c) => String(c.body.text).includes("ticket INC-205"));
    expect(String(card?.body.text)).toMatch(/^<@UBOB> <@UCAROL> delete on relay-act2: 2 messages/);
    expect(JSON.stringify(card?.body.blocks)).toContain(
      '"confirm":{"type":"plain_text","text":"Yes, delete"}',
    );
    // The ticket's archive folder cannot be created: a file already has its name.
    mkdirSync(join(dir, "archive", "relay-act2"), { recursive: true });
    writeFileSync(join(dir, "archive", "relay-act2", "INC-205"), "in the way\n");
    expect(await press(bot, id, "UBOB")).toMatch(
      /^Request failed: archiving [0-9A-F]+ failed .*nothing was deleted$/,
    );
    const q = await queueOf();
    for (const i of ids) expect(q.get(i)).toBe("hold");
    expect((await bot.store.approvals.get(id))?.status).toBe("failed");
    expect((await cardUpdates(bot, id)).at(-1)).toContain("nothing was deleted");
  });

  it("through the relay-side gate with sudo -n: archives whole, then deletes only the frozen IDs", async () => {
    const ids = await idsIn("hold", "hold.lab.test", 3);
    const id = await request(
      gated,
      `delete relay-gated ${ids.join(" ")} --ticket INC-206 --reason "confirmed junk"`,
    );
    const r = await gated.store.approvals.get(id);
    expect(r?.command.split("\n")).toEqual([
      "sudo -n postcat -q <ID>  → archive/relay-gated/INC-206/<ID>-<arrival>.postcat  (each of 3 messages, fsynced, before anything is deleted)",
      "sudo -n postsuper -d - hold  (3 queue IDs on stdin)",
    ]);
    expect(await press(gated, id, "UBOB")).toBe("Request done.");
    const q = await queueOf();
    for (const i of ids) expect(q.has(i)).toBe(false);
    expect([...q.values()].filter((n) => n === "hold").length).toBeGreaterThan(0);
    const folder = join(dir, "archive-gate", "relay-gated", "INC-206");
    const files = readdirSync(folder).sort();
    expect(files.map((f) => f.split("-")[0]).sort()).toEqual([...ids].sort());
    for (const f of files) {
      const text = readFileSync(join(folder, f), "utf8");
      expect(text).toMatch(/^\*\*\* ENVELOPE RECORDS hold\//);
      expect(text).toContain("*** MESSAGE FILE END");
      expect(text).toContain("This message was injected by the mailq-bot relay lab.");
    }
    const exec = (await gated.store.audit.list({ ticket: "INC-206", limit: 10 })).find(
      (e) => e.kind === "execute",
    );
    const result = exec?.detail.result as {
      archived: { envelope: Record<string, string> }[];
      summary: string[];
    };
    expect(result.summary).toEqual(["hold: Deleted: 3 messages"]);
    expect(result.archived.map((a) => a.envelope.recipient)).toEqual(
      expect.arrayContaining([expect.stringMatching(/@hold\.lab\.test$/)]),
    );
    expect(result.archived.every((a) => a.envelope.subject?.startsWith("hold #"))).toBe(true);
    const gateLog = readFileSync(relay.gateLogPath, "utf8");
    expect(gateLog).toMatch(/ALLOWED.*3 queue IDs.*postsuper -d - hold/);
  });
});
