import * as z from "zod";
import { executionResultSchema } from "../store/execution-result.js";
import type { AuditEntry } from "../store/store.js";
import { esc, slackDate, truncate } from "./format.js";
import { redactAddresses } from "./privacy.js";

/** The parts of an audited result the line shows; older entries may lack any of them. */
const auditedResult = executionResultSchema
  .pick({ verification: true, error: true })
  .partial()
  .extend({ skipped: z.array(z.unknown()).optional(), archived: z.array(z.unknown()).optional() });

const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** What one audit entry says, in a few words: the action, the messages, the outcome. */
export function auditDetail(e: AuditEntry): string {
  const d = e.detail;
  const ids = Array.isArray(d.ids) ? d.ids.length : undefined;
  switch (e.kind) {
    case "request":
      return `${str(d.action) ?? "?"} \`${esc(truncate(str(d.selector) ?? "", 120))}\` → ${ids ?? "?"} IDs${str(d.reason) ? `: _${esc(truncate(str(d.reason) as string, 120))}_` : ""}`;
    case "execute": {
      const parsed = auditedResult.safeParse(d.result ?? {});
      const r = parsed.success ? parsed.data : {};
      const parts = [
        r.error ? `failed: ${esc(truncate(r.error, 200))}` : esc(r.verification ?? "done"),
        Array.isArray(r.skipped) && r.skipped.length ? `${r.skipped.length} skipped` : "",
        Array.isArray(r.archived) && r.archived.length ? `${r.archived.length} archived` : "",
      ].filter(Boolean);
      return `${str(d.action) ?? ""} ${parts.join(" · ")}`.trim();
    }
    case "approve":
      return Array.isArray(d.approvers)
        ? `approvers so far: ${d.approvers.map((a) => `<@${a}>`).join(", ")}`
        : "";
    case "refuse":
      return `${str(d.decision) ?? ""} refused: ${esc(truncate(str(d.why) ?? "", 200))}`;
    case "inspect":
      return `looked at \`${esc(str(d.queueId) ?? "?")}\``;
    case "archive":
      return `${ids ?? "?"} archived whole, checksums recorded`;
    case "restore": {
      const links = Array.isArray(d.links) ? (d.links as { queueId?: string; newQueueId?: string }[]) : [];
      return `${links.length} back under ${esc(str(d.restoreTicket) ?? "?")}: ${links
        .slice(0, 10)
        .map((l) => `\`${esc(l.queueId ?? "?")}\` → \`${esc(l.newQueueId ?? "?")}\``)
        .join(", ")}${links.length > 10 ? " …" : ""}`;
    }
    case "prune":
      return `${ids ?? "?"} archived messages past archive.retention removed`;
    default:
      return "";
  }
}

/** The latest audit entries, one line each: newest first, or in the order they happened (a ticket's story). */
export function auditText(
  entries: AuditEntry[],
  filter?: string,
  order: "newest" | "oldest" = "newest",
): string {
  if (!entries.length) return filter ? `No audit entries for ${esc(filter)}.` : "No audit entries yet.";
  const lines = (order === "oldest" ? [...entries].sort((a, b) => a.id - b.id) : entries).map((e) => {
    const at = slackDate(e.atMs, "{date_short} {time_secs}");
    const actor = /^[UW][A-Z0-9]+$/.test(e.actor) ? `<@${e.actor}>` : esc(e.actor);
    const where = [e.relay ? `on ${esc(e.relay)}` : "", e.ticket ? `ticket ${esc(e.ticket)}` : ""]
      .filter(Boolean)
      .join(" ");
    const req = e.requestId ? ` (request ${e.requestId.slice(0, 8)})` : "";
    const detail = auditDetail(e);
    return `• ${at} *${e.kind}* by ${actor} ${where}${req}${detail ? ` — ${detail}` : ""}`;
  });
  return truncate(
    redactAddresses(
      `*Audit${filter ? ` of ${esc(filter)}` : ""}*, ${order === "oldest" ? "in order" : "newest first"} (all of it: \`mailq-bot audit --json\`):\n${lines.join("\n")}`,
    ),
    3900,
  );
}
