import { randomUUID } from "node:crypto";
import { approvalCard } from "../cards/approval.js";
import { mailqMetrics, recordApprovalExecuted } from "../metrics/mailq.js";
import type { ApprovalRequest, Store } from "../store/store.js";
import { type ActionDeps, execute, resolveRequest } from "./execute.js";
import { type ActionRequest, commandText, selectorText } from "./request.js";

export interface ApprovalSlack {
  post(channel: string, card: ReturnType<typeof approvalCard>): Promise<string | undefined>;
  update(channel: string, ts: string, card: ReturnType<typeof approvalCard>): Promise<void>;
  /** Members of a user group (S…), for access lists that name groups. */
  groupMembers(groupId: string): Promise<string[]>;
}

export interface FlowDeps extends ActionDeps {
  store: Store;
  slack: ApprovalSlack;
}

/** Users are compared by ID, never by name; S… entries are user groups. */
export async function isAllowed(userId: string, list: string[], slack: ApprovalSlack): Promise<boolean> {
  if (list.includes(userId)) return true;
  for (const g of list.filter((x) => x.startsWith("S")))
    if ((await slack.groupMembers(g)).includes(userId)) return true;
  return false;
}

export type Outcome = { ok: true; message: string } | { ok: false; message: string };

/** Resolves the request to exact queue IDs (read-only) and posts the approval card. */
export async function requestAction(
  req: ActionRequest,
  who: { userId: string; channelId: string },
  d: FlowDeps,
): Promise<Outcome> {
  const c = d.config;
  if (c.access.requesters.length && !(await isAllowed(who.userId, c.access.requesters, d.slack)))
    return {
      ok: false,
      message:
        "You are not in access.requesters, so you cannot request queue changes. Ask a mail lead to add you.",
    };
  const { frozen, truncated } = await resolveRequest(req, d);
  if (frozen.length === 0)
    return {
      ok: false,
      message: `Nothing in ${req.relay}'s queue matches \`${selectorText(req.selectors)}\` now; nothing was requested.`,
    };
  const now = d.nowMs();
  const created = await d.store.approvals.create({
    id: randomUUID(),
    relay: req.relay,
    action: req.action,
    selector: selectorText(req.selectors),
    ticket: req.ticket,
    reason: req.reason,
    requester: who.userId,
    channelId: who.channelId,
    messageTs: null,
    createdAtMs: now,
    expiresAtMs: now + c.approvals.expireAfter,
    frozen,
    command: commandText(req.action, frozen),
  });
  await d.store.audit.append({
    atMs: now,
    kind: "request",
    actor: who.userId,
    relay: req.relay,
    ticket: req.ticket,
    requestId: created.id,
    detail: {
      action: req.action,
      selector: created.selector,
      reason: req.reason,
      ids: frozen.map((f) => f.queueId),
      command: created.command,
      truncated,
    },
  });
  const ts = await d.slack.post(who.channelId, approvalCard(created, now));
  if (ts) await d.store.approvals.transition(created.id, "pending", created.version, { messageTs: ts });
  return {
    ok: true,
    message: `Request posted for approval: ${frozen.length} message(s)${truncated ? " (capped)" : ""}.`,
  };
}

async function expireIfDue(r: ApprovalRequest, d: FlowDeps): Promise<boolean> {
  if (d.nowMs() < r.expiresAtMs) return false;
  if (await d.store.approvals.transition(r.id, "pending", r.version, { status: "expired" })) {
    await d.store.audit.append({
      atMs: d.nowMs(),
      kind: "expire",
      actor: "mailq-bot",
      relay: r.relay,
      ticket: r.ticket,
      requestId: r.id,
      detail: {},
    });
    const fresh = (await d.store.approvals.get(r.id)) as ApprovalRequest;
    if (fresh.messageTs)
      await d.slack.update(fresh.channelId, fresh.messageTs, approvalCard(fresh, d.nowMs()));
  }
  return true;
}

/** A button press. Every rule is checked here, on the server; the state change is compare-and-set. */
export async function decide(
  requestId: string,
  userId: string,
  decision: "approve" | "reject" | "cancel",
  d: FlowDeps,
): Promise<Outcome> {
  const r = await d.store.approvals.get(requestId);
  if (!r) return { ok: false, message: "That request does not exist (any more)." };
  if (r.status !== "pending")
    return { ok: false, message: `That request is already ${r.status}; nothing was done.` };
  if (await expireIfDue(r, d))
    return {
      ok: false,
      message:
        "That request expired before it was approved; nothing was done. Ask again if it is still needed.",
    };
  const at = d.nowMs();
  if (decision === "cancel") {
    if (userId !== r.requester) return { ok: false, message: "Only the requester can cancel a request." };
    if (!(await d.store.approvals.transition(r.id, "pending", r.version, { status: "cancelled" })))
      return { ok: false, message: "Someone acted on that request first." };
    await d.store.audit.append({
      atMs: at,
      kind: "cancel",
      actor: userId,
      relay: r.relay,
      ticket: r.ticket,
      requestId: r.id,
      detail: {},
    });
  } else {
    if (userId === r.requester)
      return { ok: false, message: "You cannot approve or reject your own request: a second person must." };
    if (!d.config.access.approvers.length)
      return {
        ok: false,
        message:
          "No approvers are configured (access.approvers); nobody can approve queue changes until a mail lead is added.",
      };
    if (!(await isAllowed(userId, d.config.access.approvers, d.slack)))
      return { ok: false, message: "You are not in access.approvers; an approver must decide this request." };
    if (decision === "reject") {
      if (
        !(await d.store.approvals.transition(r.id, "pending", r.version, {
          status: "rejected",
          approvers: [userId],
        }))
      )
        return { ok: false, message: "Someone acted on that request first." };
      await d.store.audit.append({
        atMs: at,
        kind: "reject",
        actor: userId,
        relay: r.relay,
        ticket: r.ticket,
        requestId: r.id,
        detail: {},
      });
    } else {
      const approvers = [...new Set([...r.approvers, userId])];
      const enough = approvers.length >= d.config.approvals.required;
      if (r.approvers.includes(userId))
        return { ok: false, message: "You already approved this request; another approver is needed." };
      // The one winner of this compare-and-set runs the request; double clicks, retries and other replicas lose.
      if (
        !(await d.store.approvals.transition(
          r.id,
          "pending",
          r.version,
          enough ? { status: "executing", approvers } : { approvers },
        ))
      )
        return { ok: false, message: "Someone acted on that request first." };
      await d.store.audit.append({
        atMs: at,
        kind: "approve",
        actor: userId,
        relay: r.relay,
        ticket: r.ticket,
        requestId: r.id,
        detail: { approvers },
      });
      if (enough) {
        const running = (await d.store.approvals.get(r.id)) as ApprovalRequest;
        if (running.messageTs)
          await d.slack.update(running.channelId, running.messageTs, approvalCard(running, d.nowMs()));
        const result = await execute(running, d);
        const final = result.error ? "failed" : "done";
        recordApprovalExecuted(mailqMetrics, r.action, final);
        await d.store.approvals.transition(r.id, "executing", running.version, { status: final, result });
        await d.store.audit.append({
          atMs: d.nowMs(),
          kind: "execute",
          actor: userId,
          relay: r.relay,
          ticket: r.ticket,
          requestId: r.id,
          detail: { command: r.command, ids: r.frozen.map((f) => f.queueId), result },
        });
      }
    }
  }
  const fresh = (await d.store.approvals.get(r.id)) as ApprovalRequest;
  if (fresh.messageTs)
    await d.slack.update(
      fresh.channelId,
      fresh.messageTs,
      approvalCard(fresh, d.nowMs(), (fresh.result as never) ?? undefined),
    );
  return { ok: true, message: `Request ${fresh.status}.` };
}
