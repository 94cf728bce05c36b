import type { ApprovalRequest, ExecutionResult } from "../store/store.js";
import { relativeTo } from "../util/duration.js";
import { esc, num, slackDate, truncate } from "./format.js";
import { addressDomainOf, maskAddress, redactAddresses } from "./privacy.js";
import type { Block, Card } from "./status.js";

const section = (text: string): Block => ({
  type: "section",
  text: { type: "mrkdwn", text: truncate(redactAddresses(text), 3000) },
});

function tally(values: string[], limit = 5): string {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([k, n]) => `${esc(k || "<>")} ${num(n)}`)
    .join(" · ");
}

/** A time every reader sees in their own zone, with UTC as the fallback text. */
export function slackTime(ms: number): string {
  return slackDate(ms);
}

const plural = (n: number, one: string) => `${num(n)} ${one}${n === 1 ? "" : "s"}`;

/**
 * The configured approvers as Slack mentions, so they are notified: a user group (S…) as
 * <!subteam^S…>, a person (U…, W…) as <@U…>. Anything else is not an ID and is left out.
 */
export function approverMentions(approvers: readonly string[]): string {
  return approvers
    .map((a) => (/^S[A-Z0-9]+$/.test(a) ? `<!subteam^${a}>` : /^[UW][A-Z0-9]+$/.test(a) ? `<@${a}>` : ""))
    .filter(Boolean)
    .join(" ");
}

/** Approving runs something that cannot be taken back, or touches the whole queue. */
export function needsConfirmation(r: Pick<ApprovalRequest, "action" | "selector">): boolean {
  return r.action === "delete" || (r.action === "requeue" && r.selector.trim() === "ALL");
}

function approveConfirm(r: ApprovalRequest): Record<string, unknown> {
  const n = r.frozen.length;
  const what =
    r.action === "delete"
      ? `Delete ${plural(n, "message")} on ${r.relay}? Each is archived first; the delete itself cannot be undone.`
      : `Requeue the whole queue of ${r.relay} (${plural(n, "message")})? Every message is retried at once, which can flood the destinations that are failing.`;
  return {
    title: { type: "plain_text", text: r.action === "delete" ? "Delete these messages?" : "Requeue ALL?" },
    text: { type: "plain_text", text: truncate(`${what} Ticket ${r.ticket}.`, 300) },
    confirm: { type: "plain_text", text: r.action === "delete" ? "Yes, delete" : "Yes, requeue all" },
    deny: { type: "plain_text", text: "Back" },
    style: "danger",
  };
}

/** The approver(s) still needed, as the card says it. */
export function stillNeeded(r: ApprovalRequest, required: number): number {
  return Math.max(0, required - r.approvers.length);
}

/**
 * The request as the approvers see it: who asks, why, exactly which messages and the exact
 * command; buttons only while it is pending. After the run: who approved, when, the outcome
 * per ID as postsuper reported it, and the verification probe.
 */
export function approvalCard(
  r: ApprovalRequest,
  nowMs: number,
  result?: ExecutionResult,
  required = 1,
  approvers: readonly string[] = [],
): Card {
  const call = r.status === "pending" ? approverMentions(approvers) : "";
  const blocks: Block[] = [];
  const n = r.frozen.length;
  blocks.push(
    section(
      `*${r.action.toUpperCase()}* on *${esc(r.relay)}*: ${plural(n, "message")} · ticket *${esc(r.ticket)}*\n` +
        `Requested by <@${r.requester}> ${slackTime(r.createdAtMs)}${r.reason ? `: _${esc(redactAddresses(r.reason))}_` : " (no reason given)"}\n` +
        `Selector: \`${esc(redactAddresses(r.selector))}\``,
    ),
  );
  const sample = r.frozen
    .slice(0, 8)
    .map(
      (f) =>
        `\`${f.queueId}\` ${f.queueName} · ${esc(maskAddress(f.sender))} → ${esc(f.recipientDomains.slice(0, 3).join(", "))}`,
    )
    .join("\n");
  blocks.push(
    section(
      `*Sample* (${Math.min(8, n)} of ${num(n)}):\n${sample}\n` +
        `*Top sender domains*: ${tally(r.frozen.map((f) => addressDomainOf(f.sender)))}\n` +
        `*Top recipient domains*: ${tally(r.frozen.flatMap((f) => f.recipientDomains))}`,
    ),
  );
  blocks.push(
    section(
      `*Exactly what will run* (these queue IDs, frozen now, on stdin; nothing else):\n\`\`\`${esc(r.command)}\`\`\``,
    ),
  );
  const notes: string[] = [];
  if (r.action === "hold" && r.frozen.some((f) => f.queueName === "active"))
    notes.push(
      "⚠️ Some messages are in the *active* queue: holding them does not stop a delivery already under way.",
    );
  if (r.action === "delete")
    notes.push(
      "🗄 Every message is archived whole (`postcat -q`) before anything is deleted; if one archive fails, nothing is deleted.",
    );
  if (r.action === "restore") {
    const from = r.frozen.flatMap((f) => (f.archive ? [f.archive] : []));
    const bytes = from.reduce((n, a) => n + a.bytes, 0);
    blocks.push(
      section(
        `*From the archive*: ${plural(from.length, "message")}, ${num(Math.ceil(bytes / 1024))} KiB · original ticket ${tally(from.map((a) => a.ticket))} · deleted at the request of ${[...new Set(from.map((a) => `<@${a.deletedBy}>`))].join(", ")}`,
      ),
    );
    notes.push(
      "♻️ Each message goes back with its original sender and recipients, checked against the checksum taken when it was archived (any mismatch refuses the whole restore). A message already restored is never sent twice.",
    );
  } else
    notes.push(
      "IDs that leave the queue before the run, or that Postfix reuses for another message, are skipped and reported, never replaced.",
    );
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: notes.join("\n") }] });

  if (r.status === "pending") {
    const need = stillNeeded(r, required);
    const so = r.approvers.length
      ? ` (approved so far by ${r.approvers.map((a) => `<@${a}>`).join(", ")})`
      : "";
    blocks.push({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `Needs ${need} more approver${need === 1 ? "" : "s"} other than the requester${so} · expires ${slackTime(r.expiresAtMs)} (${relativeTo(r.expiresAtMs, nowMs)})`,
        },
      ],
    });
    blocks.push(
      section(
        call
          ? `🔔 ${call}: an approval is needed (not from the requester).`
          : "⚠️ No approvers are configured (access.approvers): nobody can approve this.",
      ),
    );
    blocks.push({
      type: "actions",
      block_id: `mailq_approval:${r.id}`,
      elements: [
        {
          type: "button",
          action_id: "mailq_approve",
          text: { type: "plain_text", text: "Approve" },
          style: "primary",
          value: r.id,
          ...(needsConfirmation(r) ? { confirm: approveConfirm(r) } : {}),
        },
        {
          type: "button",
          action_id: "mailq_reject",
          text: { type: "plain_text", text: "Reject" },
          style: "danger",
          value: r.id,
        },
        {
          type: "button",
          action_id: "mailq_cancel",
          text: { type: "plain_text", text: "Cancel (requester)" },
          value: r.id,
        },
      ],
    });
  } else {
    const who = r.approvers.length ? ` by ${r.approvers.map((a) => `<@${a}>`).join(", ")}` : "";
    const when = result?.startedAtMs ? `, run ${slackTime(result.startedAtMs)}` : "";
    const state: Record<string, string> = {
      approved: `✅ Approved${who}; running…`,
      executing: `⚙️ Approved${who}${when}; running…`,
      done: `✅ Approved${who}${when}; done`,
      failed: `❌ Approved${who}${when}; the run failed`,
      rejected: `🚫 Rejected${who}; nothing was run`,
      cancelled: "↩️ Cancelled by the requester; nothing was run",
      expired: `⌛ Expired ${slackTime(r.expiresAtMs)} before enough approvals; nothing was run`,
    };
    blocks.push(section(`*${state[r.status] ?? r.status}*`));
  }
  if (result) {
    const p = result.progress;
    const lines = [
      r.status === "executing" && p.of > 1
        ? `*Progress*: run ${num(p.runs)} of ${num(p.of)} · ${num(p.ids)} of ${num(p.total)} IDs sent`
        : "",
      result.verification ? `*Verification*: ${esc(result.verification)}` : "",
      result.summary.length ? `*postsuper*: ${esc(result.summary.join("; "))}` : "",
      result.outcomes.length
        ? `*Per ID*: ${result.outcomes
            .slice(0, 25)
            .map((o) => `\`${o.queueId}\` ${esc(o.outcome)}`)
            .join(
              ", ",
            )}${result.outcomes.length > 25 ? ` … and ${num(result.outcomes.length - 25)} more (see /mailq audit ${esc(r.ticket)})` : ""}`
        : "",
      result.skipped.length
        ? `*Skipped* (${num(result.skipped.length)}): ${result.skipped
            .slice(0, 15)
            .map((s) => `\`${s.queueId}\` ${esc(s.why)}`)
            .join(", ")}${result.skipped.length > 15 ? " …" : ""}`
        : "",
      result.archived.length
        ? `*Archived*: ${plural(result.archived.length, "message")} before the delete, in the bot's archive under ${esc(r.relay)}/${esc(r.ticket)}/`
        : "",
      result.restored?.length
        ? `*Restored*: ${plural(result.restored.length, "message")} handed back to ${esc(r.relay)}'s queue`
        : "",
      result.error ? `*Error*: ${esc(result.error)}` : "",
    ].filter(Boolean);
    if (lines.length) blocks.push(section(lines.join("\n")));
  }
  return {
    // The mention in the text is what notifies the approvers (and shows in the notification).
    text: `${call ? `${call} ` : ""}${r.action} on ${r.relay}: ${n} messages, ticket ${r.ticket} (${r.status})`,
    blocks: blocks.slice(0, 50),
  };
}

/** What the ticket form carries from the slash command to its submission (re-validated there). */
export interface TicketFormState {
  action: ApprovalRequest["action"];
  relay: string;
  /** The selectors as words (selectorWords), parsed again on submission. */
  words: string[];
  reason: string;
  batch?: { size: number; pauseMs: number };
  userId: string;
  channelId: string;
  /** The command's response URL: where the card goes when the bot is not in the channel. */
  responseUrl?: string;
}

export const TICKET_FORM_CALLBACK = "mailq_ticket";

/** The form Slack opens when a queue change was asked for without --ticket. */
export function ticketModal(state: TicketFormState, ticketPattern: string): Record<string, unknown> {
  const typed = [state.relay, ...state.words.map((w) => (/\s/.test(w) ? `"${w}"` : w))].join(" ");
  return {
    type: "modal",
    callback_id: TICKET_FORM_CALLBACK,
    private_metadata: JSON.stringify(state),
    title: { type: "plain_text", text: "Ticket needed" },
    submit: { type: "plain_text", text: "Ask for approval" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      section(
        `\`/mailq ${state.action} ${esc(truncate(typed, 400))}\` changes the queue, so it needs a ticket and a second approver. Nothing has run yet.`,
      ),
      {
        type: "input",
        block_id: "ticket",
        label: { type: "plain_text", text: "Ticket" },
        hint: { type: "plain_text", text: `Must match ${truncate(ticketPattern, 100)}` },
        element: {
          type: "plain_text_input",
          action_id: "value",
          max_length: 64,
          placeholder: { type: "plain_text", text: "INC-1234" },
        },
      },
      {
        type: "input",
        block_id: "reason",
        optional: true,
        label: { type: "plain_text", text: "Reason" },
        element: {
          type: "plain_text_input",
          action_id: "value",
          max_length: 300,
          ...(state.reason ? { initial_value: state.reason } : {}),
          placeholder: { type: "plain_text", text: "why, in a few words" },
        },
      },
    ],
  };
}
