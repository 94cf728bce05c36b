import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { normaliseReason } from "../../src/analysis/reasons.js";
import { type Config, parseConfig } from "../../src/config.js";
import { parseArchivedMessage } from "../../src/parsers/archived-message.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { ArchivedMessage } from "../../src/store/store.js";
import { postedRequest } from "../helpers/approvals.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { runCli } from "../helpers/cli.js";
import { HARNESS_MS, requestCardWithinMs } from "../helpers/deadlines.js";
import { asGate, labRelayEntry } from "../helpers/lab-relay.js";
import {
  type FakeSlack,
  postSigned,
  pressApproval,
  slashCommandBody,
  startFakeSlack,
} from "../helpers/slack.js";
import {
  fillStandardScenario,
  type LabRelay,
  labExec,
  postqueueJson,
  type QueueEntry,
  startRelay,
  waitForQueueSettled,
} from "../lab/lab.js";
import { waitFor } from "../lab/sys.js";

// A relay of its own (these tests delete and restore mail), reached as deployed: the bot's key
// behind deploy/relay/mailq-bot-gate with sudo, over signed HTTP from a loopback fake Slack.
const lab = inject("lab");
let relay: LabRelay;
let slack: FakeSlack;
let bot: RunningBot;
let cfg: Config;
const dir = mkdtempSync(join(tmpdir(), "mailq-restore-"));
const storePath = join(dir, "store.sqlite");

const PROBE_TIMEOUT_MS = 15_000;
/** One request to its result: the resolving probes, the archive's reads, then the action, each within the probe deadline. */
const FLOW_MS = 3 * PROBE_TIMEOUT_MS + HARNESS_MS;

const configInput = () => ({
  probes: { timeout: `${PROBE_TIMEOUT_MS / 1000}s` },
  access: { approvers: ["UBOB", "UCAROL"] },
  archive: { path: join(dir, "archive") },
  store: { path: storePath },
  relays: [labRelayEntry(relay, { name: "relay-rst", ...asGate(relay) })],
});

beforeAll(async () => {
  relay = await startRelay(lab, "relay-rst");
  await fillStandardScenario(relay);
  slack = await startFakeSlack();
  cfg = parseConfig(configInput(), "test", dir);
  bot = await startBot({
    config: cfg,
    apiUrl: slack.apiUrl,
    store: openSqliteStore(storePath),
  });
});

afterAll(async () => {
  await bot?.stop();
  await bot?.store.close();
  await slack?.close();
});

let seq = 0;
/** A slash command; returns its acknowledgement and, once it comes, what the bot whispered after. */
async function slash(text: string, user = "UALICE"): Promise<{ ack: string; said: () => Promise<string> }> {
  const tag = `rst-${++seq}`;
  const r = await postSigned(
    bot.url,
    slashCommandBody({ text, user_id: user, response_url: slack.responseUrl(tag) }),
    { secret: SIGNING_SECRET },
  );
  expect(r.status).toBe(200);
  return {
    ack: JSON.parse(r.text).text as string,
    said: async () =>
      String(
        (
          await slack.waitFor(
            "response_url",
            (c) => c.body.response_url_id === tag && c.body.text !== undefined,
          )
        ).body.text,
      ),
  };
}

async function request(text: string): Promise<string> {
  const before = new Set((await bot.store.approvals.pending()).map((r) => r.id));
  const s = await slash(text);
  expect(s.ack).toMatch(/^Resolving .*\(read-only\)…$/);
  const posted = await postedRequest(
    bot.store.approvals,
    (x) => !before.has(x.id),
    requestCardWithinMs(cfg),
    async () => `the bot said: ${await s.said()}`,
  );
  return posted.id;
}

const press = (id: string, user: string) =>
  pressApproval(slack, { url: bot.url, secret: SIGNING_SECRET }, { id, user, timeoutMs: 60_000 });

const onlyTo = (e: QueueEntry, domain: string) => e.recipients.every((r) => r.address.endsWith(`@${domain}`));

function pick(entries: QueueEntry[], domain: string, n: number): QueueEntry[] {
  const got = entries.filter((e) => e.queue_name === "deferred" && onlyTo(e, domain)).slice(0, n);
  expect(got).toHaveLength(n);
  return got;
}

async function postcatContent(id: string): Promise<Buffer> {
  const r = await labExec(relay, ["postcat", "-q", id]);
  expect(r.code).toBe(0);
  const parsed = parseArchivedMessage(Buffer.from(r.stdout, "latin1"));
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed.content;
}

const reasons = (e: QueueEntry) =>
  e.recipients.map((r) => `${r.address} ${normaliseReason(r.delay_reason ?? "")}`).sort();

describe("undo a delete: restore archived messages behind a ticket and a second approver", () => {
  it("deletes 5 with INC-42, restores them with INC-43: same envelope, same bytes, same destinations, exactly once", {
    timeout: 2 * FLOW_MS,
  }, async () => {
    const queue = await postqueueJson(relay);
    const originals = [...pick(queue, "refused.lab.test", 3), ...pick(queue, "throttle.lab.test", 2)];
    const ids = originals.map((e) => e.queue_id);
    const contents = new Map<string, Buffer>();
    for (const id of ids) contents.set(id, await postcatContent(id));

    const del = await request(`delete relay-rst ${ids.join(" ")} --ticket INC-42 --reason "thought junk"`);
    expect(await press(del, "UBOB")).toBe("Request done.");
    const after = new Set((await postqueueJson(relay)).map((e) => e.queue_id));
    for (const id of ids) expect(after.has(id)).toBe(false);

    // Every archived message has its checksum in the store.
    const archived = await bot.store.archive.list({ ticket: "INC-42" });
    expect(archived.map((m) => m.queueId).sort()).toEqual([...ids].sort());
    for (const m of archived)
      expect(m).toMatchObject({
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        deletedBy: "UALICE",
        approvedBy: ["UBOB"],
        restore: null,
      });

    // The CLI shows what can be restored and finds every file intact.
    const listed = await runCli(["archive", "list", "--ticket", "INC-42", "--json"], configInput());
    expect(listed.code).toBe(0);
    const rows = listed.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { queueId: string; state: string });
    expect(rows.map((r) => r.queueId).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.state === "restorable")).toBe(true);
    const verified = await runCli(["archive", "verify"], configInput());
    expect(verified.out).toContain("5 archived message(s) checked, 5 intact, 0 not");
    expect(verified.code).toBe(0);

    const rst = await request(
      'restore relay-rst ticket:INC-42 --ticket INC-43 --reason "deleted by mistake"',
    );
    const r = await bot.store.approvals.get(rst);
    expect(r?.action).toBe("restore");
    expect(r?.frozen.map((f) => f.queueId).sort()).toEqual([...ids].sort());
    const card = JSON.stringify(slack.callsTo("chat.postMessage").at(-1)?.body.blocks);
    expect(card).toContain("*From the archive*: 5 messages");
    expect(card).toContain("original ticket INC-42 5");
    expect(card).toContain("refused.lab.test");
    expect(await press(rst, "UALICE")).toContain("your own request");
    expect(await press(rst, "UCAROL")).toBe("Request done.");

    // A second click restores nothing twice.
    expect(await press(rst, "UBOB")).toMatch(/already done/);
    await waitForQueueSettled(relay);
    const now = await postqueueJson(relay);
    const result = (await bot.store.approvals.get(rst))?.result as {
      restored: { queueId: string; newQueueId: string }[];
    };
    expect(result.restored).toHaveLength(5);
    const links = new Map(result.restored.map((x) => [x.queueId, x.newQueueId]));
    for (const o of originals) {
      const newId = links.get(o.queue_id);
      expect(newId).toMatch(/^[0-9A-Za-z]{5,32}$/);
      const back = now.find((e) => e.queue_id === newId);
      if (!back) throw new Error(`${newId} (restored ${o.queue_id}) is not in the queue`);
      expect(back.sender).toBe(o.sender);
      expect(back.recipients.map((x) => x.address).sort()).toEqual(o.recipients.map((x) => x.address).sort());
      // The same destinations: deferred again for the same reasons.
      expect(back.queue_name).toBe("deferred");
      expect(reasons(back)).toEqual(reasons(o));
      // Byte for byte, apart from Postfix's own new Received line and the added header on top.
      const text = (await postcatContent(newId as string)).toString("latin1");
      const at = text.indexOf(`\nX-Mailq-Restored: ${rst} ${o.queue_id}\n`);
      expect(at).toBeGreaterThan(0);
      // Postfix's Received line (perhaps folded) on top, then the added header, then the original as it was.
      expect(text.slice(0, at + 1)).toMatch(/^Received: by [^\n]*\n(?:[ \t][^\n]*\n)*$/);
      const original = (contents.get(o.queue_id) as Buffer).toString("latin1");
      expect(text.slice(text.indexOf("\n", at + 1) + 1)).toBe(original);
    }
    const tagged = now.filter((e) => links.has(e.queue_id) || [...links.values()].includes(e.queue_id));
    expect(tagged).toHaveLength(5);

    // Through the relay's gate, unprivileged, once per message.
    const gateLog = readFileSync(relay.gateLogPath, "utf8");
    expect(gateLog.match(/ALLOWED: restore: 1 message, 1 recipients: sendmail -G -i -f/g)).toHaveLength(5);

    // Asking again restores nothing: every one of them is already back.
    const again = await slash("restore relay-rst ticket:INC-42 --ticket INC-44");
    expect(await again.said()).toMatch(
      /^Nothing in relay-rst's archive matches .* 5 more matched but were already restored/,
    );
    expect((await postqueueJson(relay)).length).toBe(now.length);

    // The original ticket's trail tells the whole story, in order.
    const a = await slash("audit INC-42", "UDAVE");
    const trail = await a.said();
    const kinds = [...trail.matchAll(/\*(request|approve|archive|execute|restore)\*/g)].map((m) => m[1]);
    expect(kinds).toEqual(["request", "approve", "archive", "execute", "restore"]);
    expect(trail).toMatch(/\*restore\* .* 5 back under INC-43/);
    const stored = await bot.store.archive.list({ ticket: "INC-42" });
    expect(
      stored.every((m) => m.restore?.requestId === rst && m.restore.newQueueId === links.get(m.queueId)),
    ).toBe(true);
  });

  it("refuses a restore of an archive whose checksum no longer matches, before and after the request; nothing is re-injected", async () => {
    const [one, two] = pick(await postqueueJson(relay), "refused.lab.test", 2) as [QueueEntry, QueueEntry];
    const del = await request(`delete relay-rst ${one.queue_id} ${two.queue_id} --ticket INC-45`);
    expect(await press(del, "UBOB")).toBe("Request done.");
    const listed = await bot.store.archive.list({ ticket: "INC-45" });
    expect(listed).toHaveLength(2);
    const [a, b] = listed as [ArchivedMessage, ArchivedMessage];

    // Tampered after the request: the run checks every file first and sends none.
    const rst = await request("restore relay-rst ticket:INC-45 --ticket INC-46");
    appendFileSync(b.path, "tampered\n");
    const before = (await postqueueJson(relay)).length;
    expect(await press(rst, "UCAROL")).toMatch(
      /^Request failed: refused: 1 of 2 archived message\(s\) cannot be restored as archived .*checksum mismatch.*nothing was re-injected/,
    );
    expect((await postqueueJson(relay)).length).toBe(before);
    expect((await bot.store.archive.list({ ticket: "INC-45" })).every((m) => m.restore === null)).toBe(true);

    // Tampered before: no request at all, and the refusal is audited.
    const s = await slash("restore relay-rst ticket:INC-45 --ticket INC-47");
    expect(await s.said()).toMatch(/^Refused: 1 of 2 archived message\(s\) no longer match the checksum/);
    const verified = await runCli(["archive", "verify", "--ticket", "INC-45"], configInput());
    expect(verified.code).toBe(1);
    expect(verified.out).toContain(`MISMATCH relay-rst INC-45 ${b.queueId}`);
    expect(verified.out).not.toContain(a.queueId);
    expect(readFileSync(a.path, "latin1")).toContain("*** MESSAGE FILE END");
  });

  it("a restore that fails halfway says which went back, and asking again resumes without sending any twice", {
    timeout: 4 * FLOW_MS + PROBE_TIMEOUT_MS,
  }, async () => {
    const queue = await postqueueJson(relay);
    const from = (sender: string) =>
      queue
        .filter((e) => e.queue_name === "deferred" && onlyTo(e, "throttle.lab.test") && e.sender === sender)
        .slice(0, 2);
    const first = from("app@billing.example.internal");
    const second = from("noreply@shop.example.internal");
    expect([first.length, second.length]).toEqual([2, 2]);
    // Two deletes under one ticket: the first sender's messages are archived (and restored) first.
    for (const batch of [first, second]) {
      const del = await request(`delete relay-rst ${batch.map((e) => e.queue_id).join(" ")} --ticket INC-50`);
      expect(await press(del, "UBOB")).toBe("Request done.");
    }
    // The relay refuses the second sender to the bot's user (postdrop enforces local_login_sender_maps).
    const restrict = (v: string) =>
      labExec(relay, ["postconf", "-c", relay.configDir, "-e", `local_login_sender_maps = ${v}`]);
    expect((await restrict(`inline:{ ${relay.gateUsername}=app@billing.example.internal }`)).code).toBe(0);
    let id: string;
    try {
      id = await request("restore relay-rst ticket:INC-50 --ticket INC-51");
      expect(await press(id, "UCAROL")).toMatch(
        /^Request failed: re-injecting [0-9A-Za-z]+ failed \(sendmail exited \d+: .*\); 2 of 4 went back, the rest did not$/,
      );
    } finally {
      await restrict("static:*");
    }
    const result = (await bot.store.approvals.get(id))?.result as {
      outcomes: { queueId: string; outcome: string }[];
    };
    const said = new Map(result.outcomes.map((o) => [o.queueId, o.outcome]));
    for (const e of first) expect(said.get(e.queue_id)).toMatch(/^re-injected as [0-9A-Za-z]+$/);
    const [failed, later] = second as [QueueEntry, QueueEntry];
    expect(said.get(failed.queue_id)).toMatch(/^not re-injected: sendmail exited/);
    expect(said.get(later.queue_id)).toMatch(/^not attempted: the restore stopped at /);
    const card = (await slack.callsTo("chat.update")).at(-1)?.body.blocks;
    expect(JSON.stringify(card)).toContain("not attempted");

    // Asking again takes only what did not go back.
    const s = await slash("restore relay-rst ticket:INC-50 --ticket INC-52");
    const resumed = await postedRequest(
      bot.store.approvals,
      (x) => x.ticket === "INC-52",
      requestCardWithinMs(cfg),
      async () => `the bot said: ${await s.said()}`,
    );
    expect(resumed.frozen.map((f) => f.queueId).sort()).toEqual(second.map((e) => e.queue_id).sort());
    expect(await s.said()).toContain("2 more matched but were already restored");
    expect(await press(resumed.id, "UBOB")).toBe("Request done.");
    const archived = await bot.store.archive.list({ ticket: "INC-50" });
    const newIds = archived.map((m) => m.restore?.newQueueId);
    expect(new Set(newIds).size).toBe(4);
    // Not waitForQueueSettled: the refused postdrop left an incomplete file in maildrop, which
    // pickup ignores (Postfix removes it later); the 4 restored messages are what must settle.
    await waitFor(
      "the 4 restored messages to be deferred again",
      async () =>
        (await postqueueJson(relay)).filter(
          (e) =>
            newIds.includes(e.queue_id) &&
            e.queue_name === "deferred" &&
            e.recipients.every((r) => r.delay_reason),
        ).length === 4,
      cfg.probes.timeout,
    );
    // Each original is in the queue exactly once again.
    const back = new Map<string, number>();
    for (const e of await postqueueJson(relay)) {
      if (e.arrival_time * 1000 < Date.now() - 10 * 60_000) continue;
      const text = (await postcatContent(e.queue_id)).toString("latin1");
      const m = /^X-Mailq-Restored: \S+ ([0-9A-Za-z]+)$/m.exec(text);
      if (m && archived.some((a) => a.queueId === m[1]))
        back.set(m[1] as string, (back.get(m[1] as string) ?? 0) + 1);
    }
    expect([...back.values()]).toEqual([1, 1, 1, 1]);
  });

  it("refuses bad restore input before anything runs", async () => {
    const pending = (await bot.store.approvals.pending()).length;
    for (const [text, says] of [
      ["restore relay-rst ticket:INC-42", "a ticket reference is required"],
      ["restore relay-rst --ticket INC-48", "say which archived messages"],
      ["restore relay-rst ticket:INC-42;id --ticket INC-48", "is not a ticket reference"],
      ["restore relay-rst after:yesterday --ticket INC-48", "after: takes a UTC time"],
      ["restore relay-rst sender:$(id)@x --ticket INC-48", "sender: takes an e-mail address"],
      ["restore nowhere ticket:INC-42 --ticket INC-48", 'unknown relay "nowhere"'],
    ] as const)
      expect((await slash(text)).ack).toContain(says);
    expect((await bot.store.approvals.pending()).length).toBe(pending);
  });
});
