import { randomUUID } from "node:crypto";
import { checkArchived } from "../archive/archive.js";
import { approvalCard } from "../cards/approval.js";
import { describeError } from "../errors.js";
import { mailqMetrics, recordApprovalExecuted } from "../metrics/mailq.js";
import type { ApprovalRequest, AuditEntry, ExecutionResult, Store } from "../store/store.js";
import { formatDuration } from "../util/duration.js";
import { type ActionDeps, emptyResult, execute, resolveRequest } from "./execute.js";
import { type ActionRequest, commandText, MAX_MESSAGES, RETRY_CAP, selectorText } from "./request.js";
import {
  archiveMatches,
  freezeArchived,
  MAX_RESTORE,
  type RestoreRequest,
  restoreCommandText,
  restoreSelectorText,
} from "./restore.js";
import { executeRestore } from "./restore-run.js";

export interface ApprovalSlack {
  post(channel: string, card: ReturnType<typeof approvalCard>): Promise<string | undefined>;
  update(channel: string, ts: string, card: ReturnType<typeof approvalCard>): Promise<void>;
  /** Members of a user group (S…), for access lists that name groups. */
  groupMembers(groupId: string): Promise<string[]>;
  /**
   * Replaces the card a button was pressed on, through that press's response URL: the only way
   * to update a card that was posted through a response URL (it has no ts the bot may update).
   */
  replaceOriginal?(card: ReturnType<typeof approvalCard>): Promise<void>;
}

export interface FlowDeps extends ActionDeps {
  store: Store;
  slack: ApprovalSlack;
  /** How long a running request's lease outlives its process; EXEC_LEASE_TTL_MS by default. */
  execLeaseTtlMs?: number;
  /** This process as a lease holder (tests give two "processes" their own). */
  holder?: string;
}

/**
 * The process running an approved request holds this lease and renews it; when the lease can be
 * taken while the request still says "executing", that process died mid-run.
 */
export const EXEC_LEASE_TTL_MS = 60_000;
const execLease = (id: string) => `approval-exec:${id}`;
const PROCESS_HOLDER = `executor:${randomUUID()}`;

/** Users are compared by ID, never by name; S… entries are user groups (usergroups.users.list). */
export async function isAllowed(
  userId: string,
  list: string[],
  slack: Pick<ApprovalSlack, "groupMembers">,
): Promise<boolean> {
  if (list.includes(userId)) return true;
  for (const g of list.filter((x) => x.startsWith("S")))
    if ((await slack.groupMembers(g)).includes(userId)) return true;
  return false;
}

export type Outcome = { ok: true; message: string } | { ok: false; message: string };

type Audit = Omit<AuditEntry, "id" | "atMs" | "relay" | "ticket" | "requestId">;
const audit = (d: FlowDeps, r: Pick<ApprovalRequest, "relay" | "ticket" | "id">, e: Audit) =>
  d.store.audit.append({ atMs: d.nowMs(), relay: r.relay, ticket: r.ticket, requestId: r.id, ...e });

async function refreshCard(d: FlowDeps, id: string, progress?: ExecutionResult): Promise<ApprovalRequest> {
  const fresh = (await d.store.approvals.get(id)) as ApprovalRequest;
  const card = () =>
    approvalCard(
      fresh,
      d.nowMs(),
      progress ?? fresh.result ?? undefined,
      d.config.approvals.required,
      d.config.access.approvers,
    );
  if (fresh.messageTs) await d.slack.update(fresh.channelId, fresh.messageTs, card());
  // A card posted through a response URL: replaced through the press's own, when there is one.
  else if (d.slack.replaceOriginal) await d.slack.replaceOriginal(card()).catch(() => {});
  return fresh;
}

/** Updates the card; when Slack fails, what to tell the person instead of failing what was done. */
async function cardNote(d: FlowDeps, id: string, ticket: string): Promise<string> {
  try {
    await refreshCard(d, id);
    return "";
  } catch (e) {
    return ` The card in the channel could not be updated (${describeError(e)}); \`/mailq audit ${ticket}\` has it.`;
  }
}

const NOT_A_REQUESTER =
  "You are not in access.requesters, so you cannot request queue changes. Ask a mail lead to add you.";

const mayRequest = async (userId: string, d: FlowDeps) =>
  !d.config.access.requesters.length || (await isAllowed(userId, d.config.access.requesters, d.slack));

/** A request refused before anything was recorded: audited, and said to the requester. */
async function refuseRequest(
  d: FlowDeps,
  who: { userId: string; channelId: string },
  req: { relay: string; ticket: string },
  decision: string,
  message: string,
  extra: Record<string, unknown> = {},
): Promise<Outcome> {
  await d.store.audit.append({
    atMs: d.nowMs(),
    kind: "refuse",
    actor: who.userId,
    relay: req.relay,
    ticket: req.ticket,
    requestId: null,
    detail: { decision, why: message, channel: who.channelId, ...extra },
  });
  return { ok: false, message };
}

/** Resolves the request to exact queue IDs (read-only) and posts the approval card. */
export async function requestAction(
  req: ActionRequest & { ticket: string },
  who: { userId: string; channelId: string },
  d: FlowDeps,
): Promise<Outcome> {
  const c = d.config;
  if (!(await mayRequest(who.userId, d)))
    return refuseRequest(d, who, req, `request ${req.action}`, NOT_A_REQUESTER);
  const { frozen, tooMany, notApplicable } = await resolveRequest(req, d);
  const selector = selectorText(req.selectors);
  const leftOut = notApplicable
    ? ` ${notApplicable} more matched but ${req.action} does not apply where they are (${
        req.action === "release"
          ? "not on hold"
          : req.action === "hold"
            ? "already on hold"
            : req.action === "retry"
              ? "not deferred"
              : "on hold: requeueing would release them; add queue:hold to mean it"
      }).`
    : "";
  if (tooMany)
    return {
      ok: false,
      message:
        req.action === "retry"
          ? `\`${selector}\` matches more than ${RETRY_CAP} messages; retry is for a few named messages. Use requeue (with --batch) for more. Nothing was requested.`
          : `\`${selector}\` matches more than ${MAX_MESSAGES} messages; narrow it (queue:, domain:, older:). Nothing was requested.`,
    };
  if (frozen.length === 0)
    return {
      ok: false,
      message: `Nothing in ${req.relay}'s queue matches \`${selector}\` for ${req.action} now; nothing was requested.${leftOut}`,
    };
  const relay = c.relays.find((r) => r.name === req.relay);
  return fileRequest(
    {
      relay: req.relay,
      action: req.action,
      selector,
      ticket: req.ticket,
      reason: req.reason,
      frozen,
      command: commandText(req.action, frozen, {
        sudo: relay?.sudo ?? false,
        ...(req.batch ? { batch: req.batch } : {}),
        archiveDir: `archive/${req.relay}/${req.ticket}`,
      }),
      ...(req.batch ? { batch: req.batch } : {}),
    },
    who,
    d,
    leftOut,
  );
}

type Filed = Pick<
  ApprovalRequest,
  "relay" | "action" | "selector" | "ticket" | "reason" | "frozen" | "command" | "batch"
>;

/** Records a resolved request, audits it and posts its approval card; no card, no request. */
async function fileRequest(
  req: Filed,
  who: { userId: string; channelId: string },
  d: FlowDeps,
  note = "",
): Promise<Outcome> {
  const c = d.config;
  const { frozen } = req;
  const now = d.nowMs();
  const created = await d.store.approvals.create({
    id: randomUUID(),
    relay: req.relay,
    action: req.action,
    selector: req.selector,
    ticket: req.ticket,
    reason: req.reason,
    requester: who.userId,
    channelId: who.channelId,
    messageTs: null,
    createdAtMs: now,
    expiresAtMs: now + c.approvals.expireAfter,
    frozen,
    command: req.command,
    ...(req.batch ? { batch: req.batch } : {}),
  });
  await audit(d, created, {
    kind: "request",
    actor: who.userId,
    detail: {
      action: req.action,
      selector: req.selector,
      reason: req.reason,
      ids: frozen.map((f) => f.queueId),
      frozen,
      command: created.command,
      ...(req.batch ? { batch: req.batch } : {}),
      expiresAtMs: created.expiresAtMs,
    },
  });
  let ts: string | undefined;
  try {
    ts = await d.slack.post(
      who.channelId,
      approvalCard(created, now, undefined, c.approvals.required, c.access.approvers),
    );
  } catch (e) {
    // No card, no request: nobody could approve it, and a pending row would only mislead.
    const why = describeError(e);
    if (await d.store.approvals.transition(created.id, "pending", created.version, { status: "cancelled" }))
      await audit(d, created, {
        kind: "cancel",
        actor: "mailq-bot",
        detail: { why: `no approval card: ${why}` },
      });
    return {
      ok: false,
      message: `The approval card could not be posted here, so nothing was requested: ${why}. Invite the bot to this channel (\`/invite @mailq-bot\`) or ask from a channel it is in.`,
    };
  }
  if (ts) await d.store.approvals.transition(created.id, "pending", created.version, { messageTs: ts });
  return {
    ok: true,
    message: `Request posted for approval: ${frozen.length} message(s), ticket ${req.ticket}. It expires in ${formatDuration(c.approvals.expireAfter)}.${note}`,
  };
}

/** Resolves a restore to exact archived messages (checksums checked) and posts the approval card. */
export async function requestRestore(
  req: RestoreRequest,
  who: { userId: string; channelId: string },
  d: FlowDeps,
): Promise<Outcome> {
  if (!(await mayRequest(who.userId, d)))
    return refuseRequest(d, who, req, "request restore", NOT_A_REQUESTER);
  const selector = restoreSelectorText(req.selectors);
  const matched = (await d.store.archive.list({ relay: req.relay })).filter((m) =>
    archiveMatches(m, req.selectors),
  );
  const open = matched.filter((m) => m.restore === null);
  const done = matched.length - open.length;
  const already = done
    ? ` ${done} more matched but were already restored (or claimed by another restore); they are never sent twice.`
    : "";
  if (!open.length)
    return {
      ok: false,
      message: `Nothing in ${req.relay}'s archive matches \`${selector}\` for restore; nothing was requested.${already} \`mailq-bot archive list\` shows what can be restored.`,
    };
  if (open.length > MAX_RESTORE)
    return {
      ok: false,
      message: `\`${selector}\` matches ${open.length} archived messages, more than ${MAX_RESTORE}; narrow it (ticket:, request:, domain:, after:). Nothing was requested.`,
    };
  const bad: string[] = [];
  for (const m of open) {
    const check = await checkArchived(m);
    if (!check.ok) bad.push(`${m.queueId}: ${check.why}`);
  }
  if (bad.length)
    return refuseRequest(
      d,
      who,
      req,
      "request restore",
      `Refused: ${bad.length} of ${open.length} archived message(s) no longer match the checksum recorded when they were archived (first: ${bad[0]}). Nothing was requested; \`mailq-bot archive verify\` lists them all.`,
      { problems: bad.slice(0, 50) },
    );
  const frozen = open.map(freezeArchived);
  return fileRequest(
    {
      relay: req.relay,
      action: "restore",
      selector,
      ticket: req.ticket,
      reason: req.reason,
      frozen,
      command: restoreCommandText(frozen.length),
    },
    who,
    d,
    already,
  );
}

/** Expires a pending request whose time is up (once, by compare-and-set); true when it is past due. */
async function expireIfDue(r: ApprovalRequest, d: FlowDeps): Promise<boolean> {
  if (d.nowMs() < r.expiresAtMs) return false;
  if (await d.store.approvals.transition(r.id, "pending", r.version, { status: "expired" })) {
    await audit(d, r, { kind: "expire", actor: "mailq-bot", detail: { expiresAtMs: r.expiresAtMs } });
    await refreshCard(d, r.id);
  }
  return true;
}

/** Expires every pending request that is past due and takes its buttons away; returns how many. */
export async function expireDue(d: FlowDeps): Promise<number> {
  let n = 0;
  for (const r of await d.store.approvals.pending())
    if (d.nowMs() >= r.expiresAtMs && (await expireIfDue(r, d))) n++;
  return n;
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
  const refuse = async (message: string): Promise<Outcome> => {
    await audit(d, r, { kind: "refuse", actor: userId, detail: { decision, why: message } });
    return { ok: false, message };
  };
  if (r.status !== "pending") return refuse(`That request is already ${r.status}; nothing was done.`);
  if (await expireIfDue(r, d))
    return refuse(
      "That request expired before it was approved; nothing was done. Ask again if it is still needed.",
    );
  if (decision === "cancel") {
    if (userId !== r.requester) return refuse("Only the requester can cancel a request.");
    if (!(await d.store.approvals.transition(r.id, "pending", r.version, { status: "cancelled" })))
      return refuse("Someone acted on that request first.");
    await audit(d, r, { kind: "cancel", actor: userId, detail: {} });
    return { ok: true, message: `Request cancelled; nothing was run.${await cardNote(d, r.id, r.ticket)}` };
  }
  if (userId === r.requester)
    return refuse("You cannot approve or reject your own request: a second person must.");
  if (!d.config.access.approvers.length)
    return refuse(
      "No approvers are configured (access.approvers); nobody can approve queue changes until a mail lead is added.",
    );
  if (!(await isAllowed(userId, d.config.access.approvers, d.slack)))
    return refuse("You are not in access.approvers; an approver must decide this request.");
  if (decision === "reject") {
    if (
      !(await d.store.approvals.transition(r.id, "pending", r.version, {
        status: "rejected",
        approvers: [userId],
      }))
    )
      return refuse("Someone acted on that request first.");
    await audit(d, r, { kind: "reject", actor: userId, detail: {} });
    return { ok: true, message: `Request rejected; nothing was run.${await cardNote(d, r.id, r.ticket)}` };
  }
  if (r.approvers.includes(userId))
    return refuse("You already approved this request; another approver is needed.");
  // The last approval runs the request: every earlier approver must still be one (a group may have changed).
  let earlier = r.approvers;
  let dropped: string[] = [];
  if (r.approvers.length + 1 >= d.config.approvals.required) {
    const still = await Promise.all(
      r.approvers.map(async (a) => ((await isAllowed(a, d.config.access.approvers, d.slack)) ? a : null)),
    );
    earlier = still.filter((a): a is string => a !== null);
    dropped = r.approvers.filter((a) => !earlier.includes(a));
  }
  const approvers = [...earlier, userId];
  const enough = approvers.length >= d.config.approvals.required;
  // One holder per press: a double click on the same replica must not share (and release) the lease.
  const holder = `${d.holder ?? PROCESS_HOLDER}:${randomUUID().slice(0, 8)}`;
  const ttl = d.execLeaseTtlMs ?? EXEC_LEASE_TTL_MS;
  // The runner holds the lease from before "executing" is written until after the outcome is.
  if (enough && !(await d.store.leases.acquire(execLease(r.id), holder, ttl, d.nowMs())))
    return refuse("Someone acted on that request first.");
  // The one winner of this compare-and-set runs the request; double clicks, retries and other replicas lose.
  if (
    !(await d.store.approvals.transition(
      r.id,
      "pending",
      r.version,
      enough ? { status: "executing", approvers } : { approvers },
    ))
  ) {
    if (enough) await d.store.leases.release(execLease(r.id), holder);
    return refuse("Someone acted on that request first.");
  }
  await audit(d, r, {
    kind: "approve",
    actor: userId,
    detail: { approvers, enough, ...(dropped.length ? { dropped } : {}) },
  });
  if (!enough) {
    const note = await cardNote(d, r.id, r.ticket);
    const gone = dropped.length
      ? ` The earlier approval of ${dropped.map((a) => `<@${a}>`).join(", ")} no longer counts: not in access.approvers now.`
      : "";
    return {
      ok: true,
      message: `Approval recorded; ${d.config.approvals.required - approvers.length} more approver(s) needed.${gone}${note}`,
    };
  }
  const keep = setInterval(
    () => void d.store.leases.renew(execLease(r.id), holder, ttl, d.nowMs()).catch(() => {}),
    Math.max(50, ttl / 3),
  );
  try {
    return await run(r, approvers, userId, d);
  } finally {
    clearInterval(keep);
    await d.store.leases.release(execLease(r.id), holder).catch(() => {});
  }
}

async function run(r: ApprovalRequest, approvers: string[], userId: string, d: FlowDeps): Promise<Outcome> {
  // Slack may fail to update the card; that never stops or hides the run: it goes on, and says so.
  const cardTrouble: string[] = [];
  const showCard = async (progress?: ExecutionResult) => {
    try {
      return await refreshCard(d, r.id, progress);
    } catch (e) {
      cardTrouble.push(describeError(e));
      return undefined;
    }
  };
  const running = (await showCard()) ?? ((await d.store.approvals.get(r.id)) as ApprovalRequest);
  const startedAtMs = d.nowMs();
  const result = await (running.action === "restore" ? executeRestore : execute)(
    running,
    d,
    async (partial) => {
      if (running.messageTs)
        await d.slack
          .update(
            running.channelId,
            running.messageTs,
            approvalCard(running, d.nowMs(), partial, d.config.approvals.required, d.config.access.approvers),
          )
          .catch(() => {});
    },
  );
  const final = result.error ? "failed" : "done";
  recordApprovalExecuted(mailqMetrics, r.action, final);
  await d.store.approvals.transition(r.id, "executing", running.version, { status: final, result });
  await audit(d, r, {
    kind: "execute",
    actor: userId,
    detail: {
      action: r.action,
      selector: r.selector,
      reason: r.reason,
      requester: r.requester,
      approvers,
      command: r.command,
      ids: r.frozen.map((f) => f.queueId),
      startedAtMs,
      finishedAtMs: d.nowMs(),
      result,
    },
  });
  await showCard();
  const card = cardTrouble.length
    ? ` The card in the channel could not be updated (${cardTrouble[0]}); \`/mailq audit ${r.ticket}\` has the outcome.`
    : "";
  return {
    ok: !result.error,
    message: `${result.error ? `Request failed: ${result.error}` : "Request done."}${card}`,
  };
}

/**
 * Requests left "executing" by a process that died mid-run (its lease lapsed): marked failed,
 * said so on the card and in the audit trail, so nobody waits on "running…" forever.
 */
export async function failAbandoned(d: FlowDeps): Promise<number> {
  const holder = `sweeper:${d.holder ?? PROCESS_HOLDER}`;
  const ttl = d.execLeaseTtlMs ?? EXEC_LEASE_TTL_MS;
  let n = 0;
  for (const r of await d.store.approvals.executing()) {
    if (!(await d.store.leases.acquire(execLease(r.id), holder, ttl, d.nowMs()))) continue;
    try {
      // startedAtMs 0: when the run began is unknown, and the card says nothing rather than guess.
      const result: ExecutionResult = {
        ...emptyResult(r.frozen.length, 0),
        error: `interrupted: the bot stopped while running this request, so which of its ${r.frozen.length} queue ID(s) were changed is unknown. Check the queue (/mailq status ${r.relay})${r.action === "delete" ? " and the archive" : ""}, then request again for what remains`,
      };
      if (!(await d.store.approvals.transition(r.id, "executing", r.version, { status: "failed", result })))
        continue;
      recordApprovalExecuted(mailqMetrics, r.action, "failed");
      await audit(d, r, {
        kind: "execute",
        actor: "mailq-bot",
        detail: {
          action: r.action,
          command: r.command,
          ids: r.frozen.map((f) => f.queueId),
          approvers: r.approvers,
          interrupted: true,
          result,
        },
      });
      await refreshCard(d, r.id);
      n++;
    } finally {
      await d.store.leases.release(execLease(r.id), holder);
    }
  }
  return n;
}
