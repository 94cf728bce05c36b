import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import { buildSnapshot } from "../../src/analysis/snapshot.js";
import type { Finding, RelayTriage } from "../../src/analysis/triage/index.js";
import { approvalCard } from "../../src/cards/approval.js";
import { auditText } from "../../src/cards/audit.js";
import { statusCard } from "../../src/cards/status.js";
import { triageCard } from "../../src/cards/triage.js";
import { watchHeaderCard, watchUpdateCard } from "../../src/cards/watch-update.js";
import { parsePostqueueJsonLine, type QueueEntry } from "../../src/parsers/postqueue.js";
import type { ApprovalRequest, AuditEntry, ExecutionResult } from "../../src/store/store.js";
import { MAILBOX_RE, mailboxesShown, startFakeSlack } from "../helpers/slack.js";
import { MIN, snapOf, T0 } from "../watch/helpers.js";

// Every card the bot posts in a channel, fed the lab's real queue and log (full of addresses).
const RELAY_A = join(__dirname, "../fixtures/relay-a");
const entries: QueueEntry[] = readFileSync(join(RELAY_A, "postqueue-j.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .flatMap((l) => {
    const r = parsePostqueueJsonLine(l);
    return r.ok ? [r.value] : [];
  });
const logLines = readFileSync(join(RELAY_A, "maillog.txt"), "utf8")
  .split("\n")
  .filter((l) => /(?:to|from)=<[^>]+@/.test(l));
const someone = entries.find((e) => e.sender)?.sender ?? "";

const shown = (card: unknown) => {
  const m = JSON.stringify(card).match(new RegExp(MAILBOX_RE.source, "g"));
  return m ?? [];
};

function snapshot() {
  const acc = new QueueAccumulator(T0 / 1000);
  for (const e of entries) acc.add(e);
  return buildSnapshot({
    relay: "relay-a",
    takenAtMs: T0,
    listingComplete: true,
    queue: acc.summary(50),
    top: 50,
    probeErrors: [{ probe: "postqueue -j", message: `postqueue: warning: ${someone}: odd sender` }],
  });
}

function request(status: ApprovalRequest["status"]): ApprovalRequest {
  const frozen = entries.slice(0, 12).map((e) => ({
    queueId: e.queueId,
    queueName: e.queueName,
    arrivalTime: e.arrivalTime,
    sender: e.sender,
    recipientDomains: ["refused.lab.test"],
  }));
  return {
    id: "0b6f6c3e-8d1e-4a43-9b1e-6f1c1f0f2a11",
    relay: "relay-a",
    action: "delete",
    selector: `sender:${someone} older:2h`,
    ticket: "INC-42",
    reason: `loop from ${someone}`,
    requester: "UALICE",
    channelId: "CINCIDENT",
    messageTs: "1.1",
    createdAtMs: T0,
    expiresAtMs: T0 + 15 * MIN,
    status,
    frozen,
    command: "postsuper -d - deferred  (12 queue IDs on stdin)",
    approvers: status === "pending" ? [] : ["UBOB"],
    result: null,
    version: 1,
  };
}

const result: ExecutionResult = {
  outcomes: entries.slice(0, 3).map((e) => ({ queueId: e.queueId, outcome: `removed (${e.sender})` })),
  skipped: [{ queueId: "ABCDE12345", why: `sender now ${someone}` }],
  archived: [{ queueId: "ABCDE12345", path: "/x", bytes: 1, envelope: { sender: someone } }],
  summary: ["deferred: Deleted: 3 messages"],
  output: [`postsuper: ${someone}`],
  progress: { runs: 1, of: 1, ids: 3, total: 3 },
  startedAtMs: T0,
  finishedAtMs: T0 + 1000,
  verification: "3 of 3 gone from the queue",
  error: `postsuper said something about ${someone}`,
};

const finding = (evidence: string[]): Finding => ({
  class: "network",
  share: 0.6,
  scope: "queue",
  title: `refused for ${someone}`,
  evidence,
  recommendation: "hold, don't delete",
  destinations: [],
});

const triage: RelayTriage = {
  relay: "relay-a",
  ok: true,
  takenAt: new Date(T0).toISOString(),
  queue: { messages: 181, recipients: 183, active: 0, deferred: 171, hold: 10, incoming: 0, maildrop: 0 },
  findings: [finding(logLines.slice(0, 5)), finding(logLines.slice(5, 12))],
  unexplained: [{ reason: `550 5.1.1 <${someone}>: unknown`, recipients: 3 }] as RelayTriage["unexplained"],
  intake: null,
  checklist: [],
  settings: {},
  probeErrors: [`dig failed for ${someone}`],
};

describe("no mailbox in any channel card", () => {
  it("the inputs are full of real addresses (so this test can fail)", () => {
    expect(someone).toMatch(MAILBOX_RE);
    expect(logLines.length).toBeGreaterThan(10);
    expect(shown(logLines).length).toBeGreaterThan(10);
  });

  it("status card", () => {
    expect(shown(statusCard([snapshot()], { nowMs: T0 }))).toEqual([]);
  });

  it("triage card: evidence quotes log lines with their addresses masked", () => {
    const card = triageCard([triage]);
    expect(shown(card)).toEqual([]);
    expect(JSON.stringify(card)).toMatch(/from=&lt;[a-z]…@billing\.example\.internal&gt;/);
  });

  it.each(["pending", "executing", "done", "failed", "rejected", "cancelled", "expired"] as const)(
    "approval card, %s, before and after the run",
    (status) => {
      expect(shown(approvalCard(request(status), T0))).toEqual([]);
      expect(shown(approvalCard(request(status), T0, result, 2))).toEqual([]);
    },
  );

  it("watch progress and header cards", () => {
    const now = snapOf("relay-a", T0 + 15 * MIN, { deferred: 10, reasons: [[`refused ${someone}`, 10]] });
    const watch = {
      id: "w1",
      relay: null,
      channelId: "C1",
      messageTs: "1.1",
      createdBy: "UALICE",
      intervalMs: 15 * MIN,
      startedAtMs: T0,
      nextDueMs: T0 + 30 * MIN,
      updates: 1,
      drainedStreak: 0,
      status: "active" as const,
      stopReason: null,
      version: 1,
    };
    const relays = [{ snapshot: now, progress: undefined, atStart: 20, atLast: 15, series: [] }];
    expect(shown(watchUpdateCard(watch, 2, relays, T0 + 15 * MIN))).toEqual([]);
    expect(shown(watchHeaderCard(watch, [now], T0 + 15 * MIN))).toEqual([]);
  });

  it("audit text", () => {
    const e = (kind: AuditEntry["kind"], detail: Record<string, unknown>): AuditEntry => ({
      id: 1,
      atMs: T0,
      kind,
      actor: "UALICE",
      relay: "relay-a",
      ticket: "INC-42",
      requestId: null,
      detail,
    });
    const text = auditText([
      e("request", { action: "delete", selector: `sender:${someone}`, reason: `from ${someone}`, ids: [] }),
      e("refuse", { decision: "approve", why: `not allowed for ${someone}` }),
      e("execute", { action: "delete", result }),
    ]);
    expect(shown(text)).toEqual([]);
  });
});

describe("the fake Slack's check (every test that talks to Slack runs it on close)", () => {
  it("sees a mailbox in a channel post and fails close(); an ephemeral answer may show one", async () => {
    expect(mailboxesShown({ method: "chat.postEphemeral", body: { text: someone } })).toEqual([]);
    expect(
      mailboxesShown({ method: "response_url", body: { response_type: "ephemeral", text: someone } }),
    ).toEqual([]);
    expect(
      mailboxesShown({ method: "response_url", body: { response_type: "in_channel", text: someone } }),
    ).toEqual([someone]);
    const slack = await startFakeSlack();
    await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        channel: "C1",
        blocks: [{ type: "section", text: { type: "mrkdwn", text: someone } }],
      }),
    });
    expect(slack.mailboxLeaks()).toEqual([{ method: "chat.postMessage", shown: [someone] }]);
    await expect(slack.close()).rejects.toThrow(/a channel was shown mailboxes/);
  });
});
