import { describe, expect, it } from "vitest";
import { approvalCard, ticketModal } from "../../src/cards/approval.js";
import type { ApprovalRequest, ExecutionResult, FrozenMessage } from "../../src/store/store.js";

const T0 = Date.UTC(2026, 10, 22, 13, 0, 0);
const frozen = (i: number, over: Partial<FrozenMessage> = {}): FrozenMessage => ({
  queueId: `3F1A61A${i.toString(16).toUpperCase().padStart(3, "0")}`,
  queueName: "deferred",
  arrivalTime: 1_795_354_370 + i,
  sender: i % 3 ? "app@billing.example" : "loop@app.internal",
  recipientDomains: [i % 2 ? "refused.lab.test" : "throttle.lab.test"],
  ...over,
});

function request(over: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: "0b6f6c3e-8d1e-4a43-9b1e-6f1c1f0f2a11",
    relay: "relay-a",
    action: "hold",
    selector: "domain:refused.lab.test",
    ticket: "INC-42",
    reason: "suspected loop",
    requester: "UALICE",
    channelId: "CINCIDENT",
    messageTs: "1.1",
    createdAtMs: T0,
    expiresAtMs: T0 + 15 * 60_000,
    status: "pending",
    frozen: [0, 1, 2].map((i) => frozen(i)),
    command: "postsuper -h - deferred  (3 queue IDs on stdin)",
    approvers: [],
    result: null,
    version: 1,
    ...over,
  };
}

const text = (c: ReturnType<typeof approvalCard>) => JSON.stringify(c.blocks);
const buttons = (c: ReturnType<typeof approvalCard>) =>
  c.blocks
    .filter((b) => b.type === "actions")
    .flatMap((b) => (b as unknown as { elements: { action_id: string }[] }).elements);

describe("the approval card", () => {
  it("pending: requester, ticket, reason, count, sample with masked senders and domains, the exact command, expiry, three buttons", () => {
    const c = approvalCard(request(), T0 + 60_000);
    const t = text(c);
    expect(t).toContain("*HOLD* on *relay-a*: 3 messages · ticket *INC-42*");
    expect(t).toContain("Requested by <@UALICE>");
    expect(t).toContain("_suspected loop_");
    expect(t).toContain("`3F1A61A001` deferred · a…@billing.example → refused.lab.test");
    expect(t).toContain("*Top sender domains*: billing.example 2 · app.internal 1");
    expect(t).not.toContain("app@billing.example");
    expect(t).toContain("*Top recipient domains*: throttle.lab.test 2 · refused.lab.test 1");
    expect(t).toContain("postsuper -h - deferred  (3 queue IDs on stdin)");
    expect(t).toContain(`expires <!date^${Math.floor((T0 + 15 * 60_000) / 1000)}^`);
    expect(t).toContain("(in 14 minutes)");
    expect(t).toContain("Needs 1 more approver other than the requester");
    expect(buttons(c).map((b) => b.action_id)).toEqual(["mailq_approve", "mailq_reject", "mailq_cancel"]);
    expect(c.text).toBe("hold on relay-a: 3 messages, ticket INC-42 (pending)");
  });

  it("warns that holding active mail does not stop a delivery under way, and that a delete archives first", () => {
    const hold = approvalCard(request({ frozen: [frozen(1, { queueName: "active" })] }), T0);
    expect(text(hold)).toContain("does not stop a delivery already under way");
    const del = approvalCard(request({ action: "delete" }), T0);
    expect(text(del)).toContain("archived whole (`postcat -q`) before anything is deleted");
    expect(text(del)).not.toContain("delivery already under way");
  });

  it("calls the approvers: the group as <!subteam^…>, people as <@…>, in the text that notifies", () => {
    const c = approvalCard(request(), T0, undefined, 1, ["S0MAILLEADS", "UCAROL", "not-an-id"]);
    expect(text(c)).toContain(
      "🔔 <!subteam^S0MAILLEADS> <@UCAROL>: an approval is needed (not from the requester).",
    );
    expect(c.text).toBe(
      "<!subteam^S0MAILLEADS> <@UCAROL> hold on relay-a: 3 messages, ticket INC-42 (pending)",
    );
    expect(text(c)).not.toContain("not-an-id");
    // Nobody to call: the card says so instead of staying silent.
    expect(text(approvalCard(request(), T0))).toContain("No approvers are configured (access.approvers)");
    // Decided: nobody is called any more.
    const done = approvalCard(request({ status: "done", approvers: ["UBOB"] }), T0, undefined, 1, [
      "S0MAILLEADS",
    ]);
    expect(JSON.stringify(done)).not.toContain("subteam");
  });

  it("asks for confirmation before approving a delete or a requeue of ALL, and only then", () => {
    const approve = (c: ReturnType<typeof approvalCard>) =>
      buttons(c).find((b) => b.action_id === "mailq_approve") as {
        confirm?: Record<string, { text: string }>;
      };
    const del = approve(approvalCard(request({ action: "delete" }), T0));
    expect(del.confirm?.title?.text).toBe("Delete these messages?");
    expect(del.confirm?.text?.text).toContain("Delete 3 messages on relay-a? Each is archived first");
    expect(del.confirm?.confirm?.text).toBe("Yes, delete");
    expect(del.confirm).toMatchObject({ style: "danger", deny: { type: "plain_text", text: "Back" } });
    const all = approve(approvalCard(request({ action: "requeue", selector: "ALL" }), T0));
    expect(all.confirm?.title?.text).toBe("Requeue ALL?");
    expect(
      approve(approvalCard(request({ action: "requeue", selector: "domain:x.tld" }), T0)).confirm,
    ).toBeUndefined();
    expect(approve(approvalCard(request({ action: "hold", selector: "ALL" }), T0)).confirm).toBeUndefined();
    // Block Kit's limits for a confirm: title 100, text 300, buttons 30 characters.
    expect(del.confirm?.text?.text.length).toBeLessThanOrEqual(300);
  });

  it("counts the approvers still needed when more than one is required", () => {
    const c = approvalCard(request({ approvers: ["UBOB"] }), T0, undefined, 2);
    expect(text(c)).toContain("Needs 1 more approver other than the requester (approved so far by <@UBOB>)");
    expect(text(approvalCard(request(), T0, undefined, 2))).toContain("Needs 2 more approvers");
  });

  it("after the run: buttons gone; who approved, when; the outcome per ID; skips; the verification", () => {
    const result: ExecutionResult = {
      outcomes: [
        { queueId: "3F1A61A000", outcome: "placed on hold" },
        { queueId: "3F1A61A001", outcome: "placed on hold" },
      ],
      skipped: [{ queueId: "3F1A61A002", why: "left the queue since the request" }],
      archived: [],
      summary: ["deferred: Placed on hold: 2 messages"],
      output: [],
      progress: { runs: 1, of: 1, ids: 2, total: 3 },
      startedAtMs: T0 + 120_000,
      finishedAtMs: T0 + 121_000,
      verification: "2 of 2 now on hold",
    };
    const c = approvalCard(request({ status: "done", approvers: ["UBOB"] }), T0 + 125_000, result);
    const t = text(c);
    expect(buttons(c)).toEqual([]);
    expect(t).toContain("✅ Approved by <@UBOB>, run <!date^");
    expect(t).toContain("*Verification*: 2 of 2 now on hold");
    expect(t).toContain("`3F1A61A000` placed on hold");
    expect(t).toContain("*Skipped* (1): `3F1A61A002` left the queue since the request");
    expect(t).toContain("*postsuper*: deferred: Placed on hold: 2 messages");
  });

  it.each([
    ["rejected", "🚫 Rejected by <@UBOB>; nothing was run"],
    ["cancelled", "Cancelled by the requester; nothing was run"],
    ["expired", "before enough approvals; nothing was run"],
  ] as const)("%s: no buttons, and says so", (status, says) => {
    const c = approvalCard(request({ status, approvers: status === "rejected" ? ["UBOB"] : [] }), T0);
    expect(buttons(c)).toEqual([]);
    expect(text(c)).toContain(says);
  });

  it("shows batch progress while a batched run is under way", () => {
    const result = {
      outcomes: [],
      skipped: [],
      archived: [],
      summary: [],
      output: [],
      progress: { runs: 2, of: 5, ids: 200, total: 500 },
      startedAtMs: T0,
      verification: "",
    };
    const c = approvalCard(
      request({ action: "release", status: "executing", approvers: ["UBOB"] }),
      T0,
      result,
    );
    expect(text(c)).toContain("*Progress*: run 2 of 5 · 200 of 500 IDs sent");
  });

  it("stays within Slack's limits with 100,000 messages and long outcomes", () => {
    const many = Array.from({ length: 100_000 }, (_, i) =>
      frozen(i, { sender: `s${i % 977}@x${i % 13}.example` }),
    );
    const result: ExecutionResult = {
      outcomes: many.map((f) => ({ queueId: f.queueId, outcome: "x".repeat(200) })),
      skipped: many.slice(0, 500).map((f) => ({ queueId: f.queueId, why: "y".repeat(200) })),
      archived: [],
      summary: [],
      output: [],
      progress: { runs: 1, of: 1, ids: 100_000, total: 100_000 },
      startedAtMs: T0,
      verification: "100000 of 100000 now on hold",
    };
    const c = approvalCard(request({ frozen: many, status: "done", approvers: ["UBOB"] }), T0, result);
    expect(c.blocks.length).toBeLessThanOrEqual(50);
    for (const b of c.blocks) {
      const s = (b as { text?: { text: string } }).text?.text;
      if (s) expect(s.length).toBeLessThanOrEqual(3000);
    }
    expect(text(c)).toContain("100,000 messages");
  });

  it("escapes what came from the queue (a sender cannot ping the channel)", () => {
    const c = approvalCard(request({ frozen: [frozen(1, { sender: "<!channel>@evil.example" })] }), T0);
    expect(text(c)).not.toContain("<!channel>");
    expect(text(c)).toContain("&lt;…@evil.example");
  });

  it("shows no mailbox: the typed sender: selector and the reason are masked too", () => {
    const c = approvalCard(
      request({ selector: "sender:loop@app.internal older:2h", reason: "mail loop from loop@app.internal" }),
      T0,
    );
    expect(text(c)).toContain("`sender:l…@app.internal older:2h`");
    expect(text(c)).toContain("_mail loop from l…@app.internal_");
    expect(text(c)).not.toContain("loop@");
  });
});

describe("the ticket form", () => {
  it("carries the request as typed and asks for a ticket and an optional reason", () => {
    const v = ticketModal(
      {
        action: "delete",
        relay: "relay-a",
        words: ["domain:hold.lab.test", "reason:connection refused"],
        reason: "junk",
        userId: "UALICE",
        channelId: "CINCIDENT",
      },
      "^[A-Z][A-Z0-9]+-[0-9]+$",
    );
    expect(v.callback_id).toBe("mailq_ticket");
    expect(JSON.parse(v.private_metadata as string)).toMatchObject({ action: "delete", userId: "UALICE" });
    const t = JSON.stringify(v.blocks);
    expect(t).toContain('/mailq delete relay-a domain:hold.lab.test \\"reason:connection refused\\"');
    expect(t).toContain('"block_id":"ticket"');
    expect(t).toContain('"initial_value":"junk"');
  });
});
