import type { Finding, RelayTriage } from "../analysis/triage/index.js";
import { esc, num, SLACK_LIMITS, truncate } from "./format.js";
import { redactAddresses } from "./privacy.js";
import type { Block, Card } from "./status.js";

/** Button action IDs; src/slack/listeners/actions/triage.ts handles them. */
export const TRIAGE_ACTIONS = {
  status: "mailq_triage_status",
  inspect: "mailq_triage_inspect",
  watch: "mailq_triage_watch",
} as const;

/** What a triage button carries: the relay, and for inspect the queue ID (from the relay's own log). */
export interface TriageButtonValue {
  relay: string;
  queueId?: string;
}

// Evidence quotes raw log lines (to=<…>, from=<…>): the channel sees them masked.
const section = (text: string): Block => ({
  type: "section",
  text: { type: "mrkdwn", text: truncate(redactAddresses(text), SLACK_LIMITS.sectionText) },
});
const context = (text: string): Block => ({
  type: "context",
  elements: [{ type: "mrkdwn", text: truncate(redactAddresses(text), SLACK_LIMITS.fieldText) }],
});

const CLASS_ICON: Record<Finding["class"], string> = {
  config: "⚙️",
  storage: "💾",
  "local-service": "🧩",
  corruption: "☣️",
  dns: "🌐",
  network: "🔌",
  "remote-throttling": "🐢",
  policy: "🚫",
  recipient: "📭",
  reputation: "⛔",
  tls: "🔐",
  "bounce-storm": "↩️",
};

export function shareText(f: Finding): string {
  if (f.scope === "relay" && f.share >= 1) return "stops the whole relay";
  if (f.scope === "relay") return "relay-wide";
  return `${Math.round(f.share * 100)}% of the queue`;
}

function queueLine(t: RelayTriage): string {
  const q = t.queue;
  return `${num(q.messages)} messages (${num(q.recipients)} recipients): ${num(q.deferred)} deferred, ${num(q.active)} active, ${num(q.hold)} on hold`;
}

function findingText(f: Finding, i: number): string {
  const ev = f.evidence
    .slice(0, 5)
    .map((e) => `> \`${esc(truncate(e.replaceAll("`", "'"), 280))}\``)
    .join("\n");
  const more = f.evidence.length > 5 ? `\n> …and ${f.evidence.length - 5} more lines (CLI: --json)` : "";
  return `*${i + 1}. ${CLASS_ICON[f.class]} ${esc(f.title)}*  ·  \`${f.class}\`  ·  ${shareText(f)}\n${ev}${more}\n➡️ *${esc(f.recommendation)}*`;
}

function buttons(t: RelayTriage, i: number): Block {
  const sample = t.findings.find((f) => f.sampleQueueId)?.sampleQueueId;
  const value = (v: TriageButtonValue) => JSON.stringify(v);
  const els: Record<string, unknown>[] = [
    {
      type: "button",
      action_id: TRIAGE_ACTIONS.status,
      text: { type: "plain_text", text: `Status of ${truncate(t.relay, 40)}` },
      value: value({ relay: t.relay }),
    },
  ];
  if (sample)
    els.push({
      type: "button",
      action_id: TRIAGE_ACTIONS.inspect,
      text: { type: "plain_text", text: `Inspect ${sample}` },
      value: value({ relay: t.relay, queueId: sample }),
    });
  els.push({
    type: "button",
    action_id: TRIAGE_ACTIONS.watch,
    text: { type: "plain_text", text: "Start a watch" },
    value: value({ relay: t.relay }),
  });
  return { type: "actions", block_id: `mailq_triage_next_${i}`, elements: els };
}

/** Findings in order of impact, each with its evidence and the safe lever; buttons for the next read-only step. */
export function triageCard(reports: RelayTriage[]): Card {
  const blocks: Block[] = [];
  const perRelayBudget = Math.max(4, Math.floor((SLACK_LIMITS.blocks - 1) / Math.max(1, reports.length)));
  reports.forEach((t, i) => {
    const mine: Block[] = [];
    if (!t.ok) {
      mine.push(
        section(
          `*Triage of ${esc(t.relay)}*: the relay did not answer — ${esc(t.error ?? "")}\nNothing else can be judged; reach the relay first (SSH, host key, the bot's key).`,
        ),
      );
      blocks.push(...mine);
      return;
    }
    const n = t.findings.length;
    mine.push(
      section(
        `*Triage of ${esc(t.relay)}* (read-only): ${n ? `${n} finding${n === 1 ? "" : "s"}, largest first` : "nothing wrong found"}\n${queueLine(t)}`,
      ),
    );
    // header and buttons always; findings, then the facts and probe problems, in what is left
    const middle: Block[] = [];
    const room = Math.max(1, perRelayBudget - 4);
    for (const [k, f] of t.findings.slice(0, room).entries()) middle.push(section(findingText(f, k)));
    if (n > room)
      middle.push(context(`…and ${n - room} more findings: \`mailq-bot triage --relay ${t.relay}\``));
    const facts: string[] = [];
    if (t.intake) facts.push(`intake vs drain: ${t.intake.verdict}`);
    if (t.intake?.recommendation) facts.push(`➡️ ${t.intake.recommendation}`);
    if (t.unexplained.length)
      facts.push(
        `unexplained: ${t.unexplained
          .slice(0, 3)
          .map((u) => `${u.recipients}× ${truncate(u.reason, 100)}`)
          .join("; ")}`,
      );
    const failedChecks = t.checklist.filter((c) => !c.ok).map((c) => c.step);
    facts.push(
      `checklist A: ${t.checklist.length} checks${failedChecks.length ? `, failing: ${[...new Set(failedChecks)].join(", ")}` : ", all fine"}`,
    );
    middle.push(context(esc(facts.join("\n"))));
    if (t.probeErrors.length) middle.push(context(esc(`probe problems: ${t.probeErrors.join("; ")}`)));
    blocks.push(...mine, ...middle.slice(0, Math.max(1, perRelayBudget - 2)), buttons(t, i));
  });
  const text = reports
    .map((t) =>
      t.ok
        ? `${t.relay}: ${t.findings.map((f) => `${f.class} (${shareText(f)})`).join(", ") || "nothing found"}`
        : `${t.relay}: not answering`,
    )
    .join("; ");
  return {
    text: truncate(`Triage: ${text}`, SLACK_LIMITS.sectionText),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
}

/** The same report for a terminal. */
export function triageText(reports: RelayTriage[]): string {
  const out: string[] = [];
  for (const t of reports) {
    out.push(`== triage of ${t.relay} (read-only)`);
    if (!t.ok) {
      out.push(`   the relay did not answer: ${t.error ?? ""}`);
      continue;
    }
    out.push(`   ${queueLine(t)}`);
    if (!t.findings.length) out.push("   nothing wrong found");
    t.findings.forEach((f, i) => {
      out.push(`${String(i + 1).padStart(3)}. [${f.class}] ${shareText(f)}: ${f.title}`);
      for (const e of f.evidence.slice(0, 8)) out.push(`        ${e}`);
      out.push(`     -> ${f.recommendation}`);
    });
    for (const u of t.unexplained) out.push(`   unexplained: ${u.recipients}× ${u.reason}`);
    if (t.intake) out.push(`   intake vs drain: ${t.intake.verdict}`);
    if (t.intake?.recommendation) out.push(`     -> ${t.intake.recommendation}`);
    for (const c of t.checklist) out.push(`   [${c.ok ? "ok" : "!!"}] ${c.step}: ${c.detail}`);
    for (const e of t.probeErrors) out.push(`   ! ${e}`);
  }
  return `${out.join("\n")}\n`;
}
