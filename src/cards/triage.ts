import type { Triage } from "../analysis/triage.js";
import { esc, truncate } from "./format.js";
import type { Block, Card } from "./status.js";

const section = (text: string): Block => ({
  type: "section",
  text: { type: "mrkdwn", text: truncate(text, 3000) },
});

/** Findings in order of impact, each with its evidence and the safe lever; buttons for the next read-only step. */
export function triageCard(reports: (Triage & { probeErrors: string[] })[]): Card {
  const blocks: Block[] = [];
  for (const t of reports) {
    blocks.push(
      section(
        `*Triage of ${esc(t.relay)}*: ${t.findings.length ? `${t.findings.length} finding(s), largest first` : "nothing wrong found"}`,
      ),
    );
    for (const f of t.findings.slice(0, 8)) {
      const ev = f.evidence
        .slice(0, 4)
        .map((e) => `> ${esc(truncate(e, 300))}`)
        .join("\n");
      blocks.push(
        section(
          `*${esc(f.title)}* · \`${f.class}\` · ${Math.round(f.share * 100)}% of the queue\n${ev}\n➡️ ${esc(f.recommendation)}`,
        ),
      );
    }
    if (t.flow)
      blocks.push({
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `intake ${t.flow.intakePerMinute.toFixed(1)}/min · removed ${t.flow.removedPerMinute.toFixed(1)}/min (from the log)`,
          },
        ],
      });
    if (t.probeErrors.length)
      blocks.push({
        type: "context",
        elements: [
          { type: "mrkdwn", text: esc(truncate(`probe problems: ${t.probeErrors.join("; ")}`, 2000)) },
        ],
      });
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: "mailq_next_status",
          text: { type: "plain_text", text: "Status of this relay" },
          value: t.relay,
        },
        {
          type: "button",
          action_id: "mailq_next_watch",
          text: { type: "plain_text", text: "Start a watch" },
          value: t.relay,
        },
      ],
    });
    if (blocks.length > 44) break;
  }
  const text = reports
    .map((t) => `${t.relay}: ${t.findings.map((f) => f.class).join(", ") || "nothing found"}`)
    .join("; ");
  return { text: truncate(`Triage: ${text}`, 3000), blocks: blocks.slice(0, 50) };
}
