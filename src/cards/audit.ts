import type { AuditEntry } from "../store/store.js";
import { esc, slackDate, truncate } from "./format.js";
import { redactAddresses } from "./privacy.js";

const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** What one audit entry says, in a few words: the action, the messages, the outcome. */
export function auditDetail(e: AuditEntry): string {
  const d = e.detail;
  const ids = Array.isArray(d.ids) ? d.ids.length : undefined;
  switch (e.kind) {
    case "request":
      return `${str(d.action) ?? "?"} \`${esc(truncate(str(d.selector) ?? "", 120))}\` → ${ids ?? "?"} IDs${str(d.reason) ? `: _${esc(truncate(str(d.reason) as string, 120))}_` : ""}`;
    case "execute": {
      const r = (d.result ?? {}) as {
        verification?: string;
        error?: string;
        skipped?: unknown[];
        archived?: unknown[];
      };
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
    default:
      return "";
  }
}

/** The latest audit entries, newest first, one line each. */
export function auditText(entries: AuditEntry[], filter?: string): string {
  if (!entries.length) return filter ? `No audit entries for ${esc(filter)}.` : "No audit entries yet.";
  const lines = entries.map((e) => {
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
      `*Audit${filter ? ` of ${esc(filter)}` : ""}*, newest first (all of it: \`mailq-bot audit --json\`):\n${lines.join("\n")}`,
    ),
    3900,
  );
}
