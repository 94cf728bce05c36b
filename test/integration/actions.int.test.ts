import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { postedRequest } from "../helpers/approvals.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { runCli } from "../helpers/cli.js";
import { requestCardWithinMs } from "../helpers/deadlines.js";
import { labRelayEntry } from "../helpers/lab-relay.js";
import {
  type FakeSlack,
  postSigned,
  pressApproval,
  slashCommandBody,
  startFakeSlack,
} from "../helpers/slack.js";
import { fillStandardScenario, type LabRelay, postqueueJson, sendMail, startRelay } from "../lab/lab.js";

const lab = inject("lab");
const MIN = 60_000;
let relay: LabRelay;
let slack: FakeSlack;
let bot: RunningBot;
let now = Date.now();
const dir = mkdtempSync(join(tmpdir(), "mailq-actions-"));
const dbPath = join(dir, "mailq.sqlite");

function config() {
  return parseConfig(
    {
      probes: { timeout: "15s" },
      access: { approvers: ["UBOB", "UCAROL"], inspectors: ["UDAVE"] },
      archive: { path: join(dir, "archive") },
      relays: [labRelayEntry(relay, { name: "relay-act" })],
    },
    "test",
    dir,
  );
}

beforeAll(async () => {
  relay = await startRelay(lab, "relay-act");
  await fillStandardScenario(relay);
  slack = await startFakeSlack();
  bot = await startBot({
    config: config(),
    apiUrl: slack.apiUrl,
    store: openSqliteStore(dbPath),
    nowMs: () => now,
  });
});

afterAll(async () => {
  await bot?.stop();
  await bot?.store.close();
  await slack?.close();
});

const queueOf = async () => new Map((await postqueueJson(relay)).map((e) => [e.queue_id, e.queue_name]));

async function request(text: string, user = "UALICE"): Promise<string> {
  const before = new Set((await bot.store.approvals.pending()).map((r) => r.id));
  const r = await postSigned(
    bot.url,
    slashCommandBody({ text, user_id: user, response_url: slack.responseUrl(`req-${before.size}`) }),
    { secret: SIGNING_SECRET },
  );
  expect(JSON.parse(r.text).text).toMatch(/^Resolving .* to exact queue IDs \(read-only\)…$/);
  const fresh = await postedRequest(
    bot.store.approvals,
    (x) => !before.has(x.id),
    requestCardWithinMs(config()),
    () => `asked: ${text}`,
  );
  return fresh.id;
}

const press = (id: string, user: string, action: "approve" | "reject" | "cancel") =>
  pressApproval(slack, { url: bot.url, secret: SIGNING_SECRET }, { id, user, action });

async function deferredIds(domain: string, n: number): Promise<string[]> {
  return (await postqueueJson(relay))
    .filter((e) => e.queue_name === "deferred" && e.recipients.every((r) => r.address.endsWith(`@${domain}`)))
    .slice(0, n)
    .map((e) => e.queue_id);
}

describe("queue changes behind a ticket and a second approver, on a lab relay", () => {
  it("refuses self-approval, outsiders and cancels by others; holds exactly the 3 IDs once approved; release returns them", async () => {
    const ids = await deferredIds("refused.lab.test", 3);
    const id = await request(`hold relay-act ${ids.join(" ")} --ticket INC-101 --reason "suspected loop"`);
    const card = slack.callsTo("chat.postMessage").at(-1);
    expect(JSON.stringify(card?.body.blocks)).toContain("postsuper -h - deferred  (3 queue IDs on stdin)");
    expect(JSON.stringify(card?.body.blocks)).toContain("mailq_approve");
    const before = await queueOf();

    expect(await press(id, "UALICE", "approve")).toBe(
      "You cannot approve or reject your own request: a second person must.",
    );
    expect(await press(id, "UMALLORY", "approve")).toBe(
      "You are not in access.approvers; an approver must decide this request.",
    );
    expect(await press(id, "UBOB", "cancel")).toBe("Only the requester can cancel a request.");
    expect(await queueOf()).toEqual(before);

    expect(await press(id, "UBOB", "approve")).toBe("Request done.");
    const after = await queueOf();
    for (const q of ids) expect(after.get(q)).toBe("hold");
    expect([...after].filter(([, q]) => q === "hold").length).toBe(
      [...before].filter(([, q]) => q === "hold").length + 3,
    );
    const update = slack.callsTo("chat.update").at(-1);
    expect(JSON.stringify(update?.body.blocks)).toContain("3 of 3 now on hold");
    expect(JSON.stringify(update?.body.blocks)).not.toContain("mailq_approve");
    expect(await press(id, "UCAROL", "approve")).toBe("That request is already done; nothing was done.");

    const rel = await request(`release relay-act ${ids.join(" ")} --ticket INC-101`);
    expect(await press(rel, "UCAROL", "approve")).toBe("Request done.");
    const back = await queueOf();
    for (const q of ids) expect(back.get(q)).toBe("deferred");
  });

  it("runs a request once when two approvers press at the same moment", async () => {
    const ids = await deferredIds("throttle.lab.test", 2);
    const id = await request(`requeue relay-act ${ids.join(" ")} --ticket INC-102`);
    const answers = await Promise.all([press(id, "UBOB", "approve"), press(id, "UCAROL", "approve")]);
    expect(answers.filter((a) => a === "Request done.")).toHaveLength(1);
    const executions = (await bot.store.audit.list({ ticket: "INC-102", limit: 50 })).filter(
      (e) => e.kind === "execute",
    );
    expect(executions).toHaveLength(1);
    expect(JSON.stringify(executions[0]?.detail)).toContain("Requeued: 2 messages");
  });

  it("retries named messages with postqueue -i", async () => {
    const ids = await deferredIds("throttle.lab.test", 2);
    const id = await request(`retry relay-act ${ids.join(" ")} --ticket INC-103`);
    expect(await press(id, "UBOB", "approve")).toBe("Request done.");
    const r = await bot.store.approvals.get(id);
    expect(JSON.stringify(r?.result)).toContain("scheduled for immediate delivery");
  });

  it("deletes only the frozen IDs, archived first, even when matching mail arrives after the request", async () => {
    const frozen = (await postqueueJson(relay)).filter((e) => e.queue_name === "hold").map((e) => e.queue_id);
    expect(frozen.length).toBe(10);
    const id = await request(
      'delete relay-act domain:hold.lab.test queue:hold --ticket INC-104 --reason "confirmed junk"',
    );
    const late = await sendMail(relay, { from: "late@app.internal", to: ["late1@hold.lab.test"] }, 2);
    // Held at once, wherever they are: they match the request's selectors but were not frozen.
    for (let i = 0; i < 100 && !late.every((q) => queueHas(q)); i++) await refresh();
    await relayHold(late);
    expect(await press(id, "UBOB", "approve")).toBe("Request done.");
    const after = await queueOf();
    for (const q of frozen) expect(after.has(q)).toBe(false);
    for (const q of late) expect(after.get(q)).toBe("hold");
    const files = readdirSync(join(dir, "archive", "relay-act", "INC-104"));
    expect(files).toHaveLength(10);
    for (const f of files)
      expect(readFileSync(join(dir, "archive", "relay-act", "INC-104", f), "utf8")).toContain(
        "*** ENVELOPE RECORDS",
      );
    const exec = (await bot.store.audit.list({ ticket: "INC-104", limit: 10 })).find(
      (e) => e.kind === "execute",
    );
    expect(JSON.stringify(exec?.detail)).toContain("hold.lab.test");
  });

  it("refuses an expired request and changes nothing", async () => {
    const ids = await deferredIds("dnsfail.lab.test", 1);
    const id = await request(`hold relay-act ${ids.join(" ")} --ticket INC-105`);
    const before = await queueOf();
    now += 16 * MIN;
    try {
      expect(await press(id, "UBOB", "approve")).toContain("expired before it was approved");
    } finally {
      now -= 16 * MIN;
    }
    expect(await queueOf()).toEqual(before);
    expect((await bot.store.approvals.get(id))?.status).toBe("expired");
  });

  it("keeps working across a restart between request and approval", async () => {
    const ids = await deferredIds("dnsfail.lab.test", 1);
    const id = await request(`hold relay-act ${ids.join(" ")} --ticket INC-106`);
    await bot.stop();
    await bot.store.close();
    bot = await startBot({
      config: config(),
      apiUrl: slack.apiUrl,
      store: openSqliteStore(dbPath),
      nowMs: () => now,
    });
    expect(await press(id, "UCAROL", "approve")).toBe("Request done.");
    expect((await queueOf()).get(ids[0] as string)).toBe("hold");
    expect(existsSync(dbPath)).toBe(true);
  });

  it("refuses a request without a ticket before anything runs", async () => {
    const r = await postSigned(
      bot.url,
      slashCommandBody({
        text: "delete relay-act domain:hold.lab.test",
        response_url: slack.responseUrl("t"),
      }),
      { secret: SIGNING_SECRET },
    );
    expect(JSON.parse(r.text).text).toContain("a ticket reference is required");
  });
});

let listed = new Map<string, string>();
async function refresh(): Promise<void> {
  listed = await queueOf();
  await new Promise((r) => setTimeout(r, 100));
}
const queueHas = (id: string) => listed.has(id);

async function relayHold(ids: string[]): Promise<void> {
  const { labExec } = await import("../lab/lab.js");
  await labExec(relay, ["postsuper", "-h", "-"], `${ids.join("\n")}\n`);
}

describe("inspect and the audit export", () => {
  it("shows one message's envelope only to the asker, audits it, and exports the trail as JSON lines", async () => {
    const [id] = await deferredIds("throttle.lab.test", 1);
    const r = await postSigned(
      bot.url,
      slashCommandBody({
        text: `inspect relay-act ${id}`,
        user_id: "UDAVE",
        response_url: slack.responseUrl("inspect"),
      }),
      { secret: SIGNING_SECRET },
    );
    expect(JSON.parse(r.text).response_type).toBe("ephemeral");
    const said = await slack.waitFor(
      "response_url",
      (c) => c.body.response_url_id === "inspect" && String(c.body.text).includes("*sender*"),
    );
    expect(said.body.response_type).toBe("ephemeral");
    expect(String(said.body.text)).toMatch(/\*recipient\*: \S+@throttle\.lab\.test/);
    expect(slack.callsTo("chat.postMessage").some((c) => String(c.body.text).includes(String(id)))).toBe(
      false,
    );
    const audited = (await bot.store.audit.list({ relay: "relay-act", limit: 5 })).find(
      (e) => e.kind === "inspect",
    );
    expect(audited).toMatchObject({ actor: "UDAVE", detail: { queueId: id } });

    const refused = await postSigned(
      bot.url,
      slashCommandBody({
        text: "inspect relay-act ../../etc/shadow",
        user_id: "UDAVE",
        response_url: slack.responseUrl("x"),
      }),
      { secret: SIGNING_SECRET },
    );
    expect(JSON.parse(refused.text).text).toContain("a queue ID");

    // Someone who is not an inspector: refused before anything is read, and audited.
    const before = slack.calls.length;
    const notInspector = await postSigned(
      bot.url,
      slashCommandBody({
        text: `inspect relay-act ${id}`,
        user_id: "UERIN",
        response_url: slack.responseUrl("y"),
      }),
      { secret: SIGNING_SECRET },
    );
    expect(JSON.parse(notInspector.text).text).toContain(
      "reading a message's envelope is for access.inspectors",
    );
    const refusal = (await bot.store.audit.list({ relay: "relay-act", limit: 20 })).find(
      (e) => e.kind === "refuse" && e.actor === "UERIN",
    );
    expect(refusal?.detail).toMatchObject({ decision: "/mailq inspect" });
    // From another workspace: refused too, whatever is asked, and nothing reaches Slack or the relay.
    const outsider = await postSigned(
      bot.url,
      slashCommandBody({
        text: `hold relay-act ${id} --ticket INC-299`,
        user_id: "UBOB",
        team_id: "TOTHER",
        response_url: slack.responseUrl("z"),
      }),
      { secret: SIGNING_SECRET },
    );
    expect(JSON.parse(outsider.text).text).toBe(
      "Sorry, this bot does not serve your workspace. Nothing was run.",
    );
    await new Promise((res) => setTimeout(res, 300));
    expect(slack.calls.slice(before).filter((c) => c.method !== "auth.test")).toEqual([]);
    expect((await bot.store.approvals.pending()).some((x) => x.ticket === "INC-299")).toBe(false);

    // The store's own file, not a database from the environment.
    const { code, out } = await runCli(
      ["audit", "--json"],
      {
        store: { path: dbPath },
        relays: [
          {
            name: "relay-act",
            host: "127.0.0.1",
            username: "root",
            privateKeyPath: "/k",
            hostKeyFingerprint: relay.hostKeyFingerprint,
          },
        ],
      },
      { MAILQ_DATABASE_URL: "" },
    );
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.kind)).toEqual(
      expect.arrayContaining(["request", "approve", "execute", "expire", "inspect"]),
    );
    expect(lines.map((l) => l.id)).toEqual([...lines.map((l) => l.id)].sort((a, b) => a - b));
  });
});
