import { webApi } from "@slack/bolt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Chat } from "../../src/chat/port.js";
import { RunnerPool } from "../../src/relay/collect.js";
import { slackChat } from "../../src/slack/chat.js";
import type { ApprovalRequest } from "../../src/store/store.js";
import { startExpirySweeper } from "../../src/usecases/expiry.js";
import { holdRequest } from "../helpers/approvals.js";
import { type RunningBot, SIGNING_SECRET, startBot } from "../helpers/bot.js";
import { closedRelaysConfig } from "../helpers/config.js";
import {
  type FakeSlack,
  interactionBody,
  postSigned,
  pressApproval,
  type SlackCall,
  slashCommandBody,
  startFakeSlack,
} from "../helpers/slack.js";

// The rules are checked on the server before anything reaches a relay. The relay here is a
// closed loopback port: a request that wrongly got through to it would fail loudly, and
// nothing in these tests can change a queue (the lab tests prove the queue side).
const config = closedRelaysConfig(["relay-a"], {
  access: { requesters: ["UALICE", "SREQUESTERS"], approvers: ["UBOB", "SLEADS"] },
  approvals: { required: 2, expireAfter: "15m" },
});

let slack: FakeSlack;
let bot: RunningBot;
let now = Date.UTC(2026, 10, 22, 13, 0, 0);
/** Who is in the approvers' group right now (a test changes it between two presses). */
let leads = ["UCAROL", "UDAN"];
/** When set, Slack refuses every card update. */
let updatesFail = false;

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.on("usergroups.users.list", (c) => ({
    body: {
      ok: true,
      users: c.body.usergroup === "SLEADS" ? leads : c.body.usergroup === "SREQUESTERS" ? ["UERIN"] : [],
    },
  }));
  slack.on("chat.update", () =>
    updatesFail ? { body: { ok: false, error: "channel_not_found" } } : undefined,
  );
  bot = await startBot({ config, apiUrl: slack.apiUrl, nowMs: () => now });
});
afterAll(async () => {
  await bot?.stop();
  await slack?.close();
});

const pending = (over: Partial<ApprovalRequest> = {}): Promise<ApprovalRequest> =>
  bot.store.approvals.create(holdRequest(now, over));

const press = (id: string, user: string, action: "approve" | "reject" | "cancel") =>
  pressApproval(slack, { url: bot.url, secret: SIGNING_SECRET }, { id, user, action, timeoutMs: 10_000 });

const updatesOf = (r: ApprovalRequest): SlackCall[] =>
  slack.callsTo("chat.update").filter((c) => c.body.ts === r.messageTs);

beforeEach(() => {
  now = Date.UTC(2026, 10, 22, 13, 0, 0);
});

describe("approval rules, enforced on the server", () => {
  it("the requester cannot approve or reject their own request, even by pressing twice", async () => {
    const r = await pending();
    expect(await press(r.id, "UALICE", "approve")).toBe(
      "You cannot approve or reject your own request: a second person must.",
    );
    expect(await press(r.id, "UALICE", "reject")).toContain("your own request");
    expect((await bot.store.approvals.get(r.id))?.status).toBe("pending");
  });

  it("someone outside access.approvers cannot approve; users are compared by ID, not by name", async () => {
    const r = await pending();
    // The payload's name says "UBOB"; the ID is not in the list.
    expect(await press(r.id, "UMALLORY", "approve")).toBe(
      "You are not in access.approvers; an approver must decide this request.",
    );
    const fresh = await bot.store.approvals.get(r.id);
    expect(fresh).toMatchObject({ status: "pending", approvers: [] });
    const refusals = (await bot.store.audit.list({ ticket: "INC-7", limit: 50 })).filter(
      (e) => e.kind === "refuse" && e.requestId === r.id,
    );
    expect(refusals.map((e) => e.actor)).toEqual(["UMALLORY"]);
  });

  it("a member of an approver user group (usergroups.users.list) counts; two distinct approvers are needed", async () => {
    const r = await pending();
    expect(await press(r.id, "UCAROL", "approve")).toBe("Approval recorded; 1 more approver(s) needed.");
    expect(await press(r.id, "UCAROL", "approve")).toBe(
      "You already approved this request; another approver is needed.",
    );
    expect((await bot.store.approvals.get(r.id))?.status).toBe("pending");
    expect(JSON.stringify(updatesOf(r).at(-1)?.body.blocks)).toContain("approved so far by <@UCAROL>");
    expect(slack.callsTo("usergroups.users.list").some((c) => c.body.usergroup === "SLEADS")).toBe(true);
  });

  it("with two required, the earlier approver is checked again when the last one presses", async () => {
    const r = await pending();
    expect(await press(r.id, "UCAROL", "approve")).toBe("Approval recorded; 1 more approver(s) needed.");
    leads = ["UDAN"];
    try {
      // UCAROL left the approvers' group: her approval no longer counts, so UBOB's does not run it.
      expect(await press(r.id, "UBOB", "approve")).toBe(
        "Approval recorded; 1 more approver(s) needed. The earlier approval of <@UCAROL> no longer counts: not in access.approvers now.",
      );
    } finally {
      leads = ["UCAROL", "UDAN"];
    }
    expect(await bot.store.approvals.get(r.id)).toMatchObject({ status: "pending", approvers: ["UBOB"] });
    const approve = (await bot.store.audit.list({ ticket: "INC-7", limit: 500 })).find(
      (e) => e.requestId === r.id && e.kind === "approve" && e.actor === "UBOB",
    );
    expect(approve?.detail).toMatchObject({ approvers: ["UBOB"], enough: false, dropped: ["UCAROL"] });
  });

  it("a Slack failure on the card never leaves a request running: it runs and says so, with the card's trouble", async () => {
    const r = await pending();
    updatesFail = true;
    try {
      expect(await press(r.id, "UCAROL", "approve")).toMatch(
        /^Approval recorded; 1 more approver\(s\) needed\. The card in the channel could not be updated \(.*channel_not_found.*\); `\/mailq audit INC-7` has it\.$/,
      );
      // The run itself fails here (the relay is unreachable), and says so; it is not left "executing".
      const said = await press(r.id, "UBOB", "approve");
      expect(said).toMatch(/^Request failed: /);
      expect(said).toContain("The card in the channel could not be updated");
    } finally {
      updatesFail = false;
    }
    const after = (await bot.store.approvals.get(r.id)) as ApprovalRequest;
    expect(after.status).toBe("failed");
    expect((after.result as { error: string }).error).not.toMatch(/interrupted/);
    expect(
      (await bot.store.audit.list({ ticket: "INC-7", limit: 500 })).filter(
        (e) => e.requestId === r.id && e.kind === "execute",
      ),
    ).toHaveLength(1);
  });

  it("only the requester can cancel; a cancelled request takes no more presses", async () => {
    const r = await pending();
    expect(await press(r.id, "UBOB", "cancel")).toBe("Only the requester can cancel a request.");
    expect(await press(r.id, "UALICE", "cancel")).toBe("Request cancelled; nothing was run.");
    expect(await press(r.id, "UBOB", "approve")).toBe("That request is already cancelled; nothing was done.");
    const card = updatesOf(r).at(-1);
    expect(JSON.stringify(card?.body.blocks)).not.toContain("mailq_approve");
  });

  it("an approver may reject; the card loses its buttons", async () => {
    const r = await pending();
    expect(await press(r.id, "UDAN", "reject")).toBe("Request rejected; nothing was run.");
    expect((await bot.store.approvals.get(r.id))?.status).toBe("rejected");
    expect(JSON.stringify(updatesOf(r).at(-1)?.body.blocks)).toContain("Rejected by <@UDAN>");
  });

  it("an expired request is refused, marked expired once and audited", async () => {
    const r = await pending();
    now += 15 * 60_000;
    expect(await press(r.id, "UBOB", "approve")).toContain("expired before it was approved");
    expect(await press(r.id, "UCAROL", "approve")).toBe("That request is already expired; nothing was done.");
    const kinds = (await bot.store.audit.list({ ticket: "INC-7", limit: 200 }))
      .filter((e) => e.requestId === r.id)
      .map((e) => e.kind);
    expect(kinds.filter((k) => k === "expire")).toHaveLength(1);
  });

  it("the expiry sweep expires what nobody pressed and takes the buttons away", async () => {
    const r = await pending();
    const sweeper = startExpirySweeper(
      { config, pool: new RunnerPool({}), store: bot.store, nowMs: () => now, chat: chatFor(slack) },
      { intervalMs: 3_600_000 },
    );
    try {
      expect(await sweeper.sweep()).toBe(0);
      now += 16 * 60_000;
      expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1);
    } finally {
      sweeper.stop();
    }
    expect((await bot.store.approvals.get(r.id))?.status).toBe("expired");
    const card = updatesOf(r).at(-1);
    expect(JSON.stringify(card?.body.blocks)).toContain("Expired");
    expect(JSON.stringify(card?.body.blocks)).not.toContain("mailq_approve");
  });

  it("stop waits for a sweep under way, so what it writes lands before the store closes", async () => {
    const r = await pending();
    now += 16 * 60_000;
    const inner = chatFor(slack);
    let letGo = () => {};
    const held = new Promise<void>((go) => {
      letGo = go;
    });
    let updating = false;
    const chat: Chat = {
      ...inner,
      update: async (...a) => {
        updating = true;
        await held;
        return inner.update(...a);
      },
    };
    const sweeper = startExpirySweeper(
      { config, pool: new RunnerPool({}), store: bot.store, nowMs: () => now, chat },
      { intervalMs: 3_600_000 },
    );
    const swept = sweeper.sweep();
    while (!updating) await new Promise((go) => setImmediate(go));
    let stopped = false;
    const stopping = sweeper.stop().then(() => {
      stopped = true;
    });
    await new Promise((go) => setImmediate(go));
    expect(stopped).toBe(false);
    letGo();
    await stopping;
    expect(await swept).toBeGreaterThanOrEqual(1);
    expect((await bot.store.approvals.get(r.id))?.status).toBe("expired");
    expect(JSON.stringify(updatesOf(r).at(-1)?.body.blocks)).toContain("Expired");
  });
});

describe("a request left running by a process that died", () => {
  const sweeper = () =>
    startExpirySweeper(
      {
        config,
        pool: new RunnerPool({}),
        store: bot.store,
        nowMs: () => now,
        chat: chatFor(slack),
        holder: "executor:sweeping-replica",
      },
      { intervalMs: 3_600_000 },
    );
  /** As after a SIGKILL between "executing" and the outcome: the state written, the run gone. */
  async function leftExecuting(): Promise<ApprovalRequest> {
    const r = await pending();
    expect(await bot.store.approvals.transition(r.id, "pending", r.version, { status: "executing" })).toBe(
      true,
    );
    return (await bot.store.approvals.get(r.id)) as ApprovalRequest;
  }

  it("is failed by the sweep once its runner's lease lapses: said on the card and in the audit", async () => {
    const r = await leftExecuting();
    // Its runner held the lease and then died: nobody renews it.
    expect(
      await bot.store.leases.acquire(`approval-exec:${r.id}`, "executor:dead-replica", 60_000, now),
    ).toBe(true);
    const s = sweeper();
    try {
      await s.sweep();
      expect((await bot.store.approvals.get(r.id))?.status).toBe("executing");
      now += 61_000;
      await s.sweep();
    } finally {
      s.stop();
    }
    const after = (await bot.store.approvals.get(r.id)) as ApprovalRequest;
    expect(after.status).toBe("failed");
    expect((after.result as { error: string }).error).toMatch(
      /^interrupted: the bot stopped while running this request, so which of its 1 queue ID\(s\) were changed is unknown\. Check the queue \(\/mailq status relay-a\)/,
    );
    const audit = (await bot.store.audit.list({ ticket: "INC-7", limit: 500 })).filter(
      (e) => e.requestId === r.id,
    );
    expect(audit.map((e) => [e.kind, e.actor])).toContainEqual(["execute", "mailq-bot"]);
    expect(audit.find((e) => e.kind === "execute")?.detail).toMatchObject({
      interrupted: true,
      ids: ["3F1A61A0A1"],
    });
    const card = JSON.stringify(updatesOf(r).at(-1)?.body.blocks);
    expect(card).toContain("the run failed");
    expect(card).toContain("interrupted: the bot stopped");
    // Once only: the next sweep finds nothing left running.
    const again = sweeper();
    try {
      await again.sweep();
    } finally {
      again.stop();
    }
    expect(
      (await bot.store.audit.list({ ticket: "INC-7", limit: 500 })).filter(
        (e) => e.requestId === r.id && e.kind === "execute",
      ),
    ).toHaveLength(1);
  });

  it("is left alone while its runner keeps the lease", async () => {
    const r = await leftExecuting();
    const lease = `approval-exec:${r.id}`;
    expect(await bot.store.leases.acquire(lease, "executor:live-replica", 60_000, now)).toBe(true);
    const s = sweeper();
    try {
      for (let i = 0; i < 3; i++) {
        now += 30_000;
        expect(await bot.store.leases.renew(lease, "executor:live-replica", 60_000, now)).toBe(true);
        await s.sweep();
        expect((await bot.store.approvals.get(r.id))?.status).toBe("executing");
      }
    } finally {
      s.stop();
    }
  });
});

/** The sweeper's chat: the Slack one, over the same fake Slack. */
function chatFor(s: FakeSlack) {
  return slackChat(new webApi.WebClient("xoxb-test", { slackApiUrl: s.apiUrl }));
}

describe("the ticket form", () => {
  const command = (text: string, user = "UALICE") =>
    postSigned(bot.url, slashCommandBody({ text, user_id: user, response_url: slack.responseUrl("form") }), {
      secret: SIGNING_SECRET,
    });

  async function openForm(text: string) {
    const n = slack.callsTo("views.open").length;
    const r = await command(text);
    expect(JSON.parse(r.text).text).toContain("a ticket reference is required");
    await slack.waitFor("views.open", () => slack.callsTo("views.open").length > n);
    const call = slack.callsTo("views.open").at(-1) as SlackCall;
    expect(call.body.trigger_id).toBe("1.2.3");
    return call.body.view as { private_metadata: string; callback_id: string };
  }

  const submit = (
    view: { private_metadata: string; callback_id: string },
    ticket: string,
    reason = "",
    user = "UALICE",
  ) =>
    postSigned(
      bot.url,
      interactionBody({
        type: "view_submission",
        team: { id: "TLAB", domain: "lab" },
        user: { id: user, username: "x", team_id: "TLAB" },
        api_app_id: "AMAILQ",
        token: "unused",
        trigger_id: "1.2.4",
        view: {
          id: "V1",
          type: "modal",
          callback_id: view.callback_id,
          private_metadata: view.private_metadata,
          state: {
            values: {
              ticket: { value: { type: "plain_text_input", value: ticket } },
              reason: { value: { type: "plain_text_input", value: reason } },
            },
          },
        },
      }),
      { secret: SIGNING_SECRET },
    );

  it("opens when --ticket is missing, and refuses a malformed ticket or a reason with metacharacters in place", async () => {
    const view = await openForm('hold relay-a 3F1A61A0A1 "reason:connection refused" --reason "loop"');
    expect(JSON.parse(view.private_metadata)).toMatchObject({
      action: "hold",
      relay: "relay-a",
      words: ["3F1A61A0A1", "reason:connection refused"],
      reason: "loop",
    });
    const before = (await bot.store.approvals.pending()).length;
    const bad = JSON.parse((await submit(view, "inc 42")).text);
    expect(bad.response_action).toBe("errors");
    expect(bad.errors.ticket).toContain("is not a ticket reference");
    const lower = JSON.parse((await submit(view, "inc-42")).text);
    expect(lower.errors.ticket).toContain("does not match ^[A-Z][A-Z0-9]+-[0-9]+$");
    const meta = JSON.parse((await submit(view, "INC-42", "x; reboot")).text);
    expect(meta.errors.reason).toContain("may not contain");
    const empty = JSON.parse((await submit(view, "")).text);
    expect(empty.errors.ticket).toContain("a ticket reference is required");
    expect((await bot.store.approvals.pending()).length).toBe(before);
  });

  it("refuses a form submitted by someone else than who asked, or with altered contents", async () => {
    const view = await openForm("hold relay-a 3F1A61A0A1");
    const other = JSON.parse((await submit(view, "INC-42", "", "UMALLORY")).text);
    expect(other.response_action).toBe("errors");
    const forged = JSON.parse(
      (
        await submit(
          { ...view, private_metadata: view.private_metadata.replace("3F1A61A0A1", "$(reboot)") },
          "INC-42",
        )
      ).text,
    );
    expect(forged.response_action).toBe("errors");
    expect(forged.errors.ticket).toContain("neither a queue ID nor a selector");
  });

  it("a good ticket closes the form and goes on as typed (here to a closed relay, which is reported)", async () => {
    const view = await openForm("hold relay-a 3F1A61A0A1");
    const n = slack.callsTo("chat.postEphemeral").length;
    const ok = await submit(view, "INC-42", "suspected loop");
    expect(ok.status).toBe(200);
    expect(ok.text).toBe("");
    const said = await slack.waitFor(
      "chat.postEphemeral",
      (c) => c.body.user === "UALICE" && slack.callsTo("chat.postEphemeral").indexOf(c) >= n,
    );
    expect(String(said.body.text)).toMatch(/^`\/mailq hold` failed: relay-a: cannot/);
  });
});
