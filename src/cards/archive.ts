import type { ArchivedMessage } from "../store/store.js";

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;

function state(m: ArchivedMessage): string {
  if (m.prunedAtMs !== null) return `pruned ${iso(m.prunedAtMs)}`;
  if (!m.restore) return "restorable";
  if (m.restore.restoredAtMs === null)
    return `claimed by restore ${m.restore.requestId.slice(0, 8)} (outcome unknown)`;
  return `restored ${iso(m.restore.restoredAtMs)}${m.restore.newQueueId ? ` as ${m.restore.newQueueId}` : ""} (request ${m.restore.requestId.slice(0, 8)})`;
}

/** `mailq-bot archive list`: one line per archived message, for the operator's terminal (addresses shown). */
export function archiveListText(messages: ArchivedMessage[]): string {
  if (!messages.length) return "Nothing in the archive matches.\n";
  const lines = messages.map(
    (m) =>
      `${m.relay}  ${m.ticket}  ${m.queueId}  ${iso(m.archivedAtMs)}  ${m.bytes} B  ${m.sender || "<>"} → ${m.recipientDomains.join(",")}  deleted by ${m.deletedBy} (request ${m.requestId.slice(0, 8)})  ${state(m)}`,
  );
  const open = messages.filter((m) => !m.restore && m.prunedAtMs === null).length;
  return `${lines.join("\n")}\n${messages.length} archived, ${open} restorable (/mailq restore <relay> ticket:<REF> --ticket <NEW>)\n`;
}

/** The JSON form of one archived message (`archive list --json`, one per line). */
export function archiveJson(m: ArchivedMessage): Record<string, unknown> {
  return { ...m, state: state(m) };
}
