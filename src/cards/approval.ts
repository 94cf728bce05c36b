import type { ExecutionResult } from "../actions/execute.js";
import type { ApprovalRequest } from "../store/store.js";
import { formatDuration } from "../util/duration.js";
import { esc, num, truncate } from "./format.js";
import type { Block, Card } from "./status.js";

const section = (text: string): Block => ({
  type: "section",
  text: { type: "mrkdwn", text: truncate(text, 3000) },
});

function tally(values: string[]): string {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([k, n]) => `${esc(k || "<>")} ${num(n)}`)
    .join(" · ");
}

/** The request as the approvers see it; buttons only while it is pending. */
export function approvalCard(r: ApprovalRequest, nowMs: number, result?: ExecutionResult): Card {
  const blocks: Block[] = [];
  const head = `*${r.action.toUpperCase()}* on *${esc(r.relay)}*: ${num(r.frozen.length)} message${r.frozen.length === 1 ? "" : "s"} · ticket *${esc(r.ticket)}*`;
  blocks.push(
    section(
      `${head}\nRequested by <@${r.requester}>${r.reason ? `: _${esc(r.reason)}_` : ""}\nSelector: \`${esc(r.selector)}\``,
    ),
  );
  const sample = r.frozen
    .slice(0, 10)
    .map((f) => `\`${f.queueId}\` (${f.queueName})`)
    .join(", ");
  blocks.push(
    section(
      `*Sample*: ${sample}${r.frozen.length > 10 ? ` and ${num(r.frozen.length - 10)} more` : ""}\n*Top sender domains*: ${tally(r.frozen.map((f) => f.sender.split("@")[1] ?? ""))}\n*Top recipient domains*: ${tally(r.frozen.flatMap((f) => f.recipientDomains))}`,
    ),
  );
  blocks.push(
    section(`*Exactly what will run* (queue IDs on stdin, frozen now):\n\`\`\`${esc(r.command)}\`\`\``),
  );
  if (r.action === "hold" && r.frozen.some((f) => f.queueName === "active"))
    blocks.push(
      section(
        "⚠️ Some messages are in the *active* queue: holding them does not stop a delivery already under way.",
      ),
    );
  if (r.action === "delete")
    blocks.push(
      section(
        "🗄 Every message is archived whole (`postcat -q`) before it is deleted; if archiving fails, nothing is deleted.",
      ),
    );
  if (r.status === "pending") {
    blocks.push({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `Needs ${r.approvers.length ? "another" : "one"} approver other than the requester · expires in ${formatDuration(r.expiresAtMs - nowMs)}`,
        },
      ],
    });
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
    const state: Record<string, string> = {
      approved: `✅ Approved${who}; running…`,
      executing: `⚙️ Approved${who}; running…`,
      done: `✅ Approved${who} and run`,
      failed: `❌ Approved${who}; the run failed`,
      rejected: `🚫 Rejected${who}`,
      cancelled: "↩️ Cancelled by the requester",
      expired: "⌛ Expired before anyone approved it",
    };
    blocks.push(section(`*${state[r.status] ?? r.status}*`));
  }
  if (result) {
    const lines = [
      result.verification ? `*Verification*: ${esc(result.verification)}` : "",
      result.summary.length ? `*postsuper*: ${esc(result.summary.join("; "))}` : "",
      result.outcomes.length
        ? `*Per ID*: ${result.outcomes
            .slice(0, 30)
            .map((o) => `\`${o.queueId}\` ${esc(o.outcome)}`)
            .join(", ")}${result.outcomes.length > 30 ? " …" : ""}`
        : "",
      result.skipped.length
        ? `*Skipped*: ${result.skipped
            .slice(0, 20)
            .map((s) => `\`${s.queueId}\` ${esc(s.why)}`)
            .join(", ")}`
        : "",
      result.archived.length ? `*Archived*: ${num(result.archived.length)} message(s) before the delete` : "",
      result.error ? `*Error*: ${esc(result.error)}` : "",
    ].filter(Boolean);
    if (lines.length) blocks.push(section(lines.join("\n")));
  }
  return {
    text: `${r.action} on ${r.relay}: ${r.frozen.length} messages, ticket ${r.ticket} (${r.status})`,
    blocks: blocks.slice(0, 50),
  };
}
