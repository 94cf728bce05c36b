import { unlink } from "node:fs/promises";
import type { ArchivedMessage, Store } from "../store/store.js";
import { checkArchived } from "./archive.js";

export interface VerifyReport {
  checked: number;
  problems: { message: ArchivedMessage; why: string }[];
}

/** Rechecks every archived message still kept: the file is there and its SHA-256 is the recorded one. */
export async function verifyArchive(
  store: Pick<Store, "archive">,
  filter: { relay?: string; ticket?: string } = {},
): Promise<VerifyReport> {
  const all = await store.archive.list(filter);
  const problems: VerifyReport["problems"] = [];
  for (const m of all) {
    const c = await checkArchived(m);
    if (!c.ok) problems.push({ message: m, why: c.why });
  }
  return { checked: all.length, problems };
}

/**
 * Removes archived messages older than `retentionMs` (files, then the record marked pruned) and
 * writes one audit line per ticket. Each is pruned by one caller only (compare-and-set), so
 * replicas may all run it.
 */
export async function pruneArchive(
  store: Pick<Store, "archive" | "audit">,
  retentionMs: number,
  nowMs: number,
): Promise<number> {
  const due = (await store.archive.list({})).filter((m) => m.archivedAtMs < nowMs - retentionMs);
  const byTicket = new Map<string, ArchivedMessage[]>();
  for (const m of due) {
    if (!(await store.archive.markPruned(m.id, nowMs))) continue;
    await unlink(m.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
    const k = `${m.relay}\n${m.ticket}`;
    byTicket.set(k, [...(byTicket.get(k) ?? []), m]);
  }
  let n = 0;
  for (const ms of byTicket.values()) {
    const first = ms[0] as ArchivedMessage;
    n += ms.length;
    await store.audit.append({
      atMs: nowMs,
      kind: "prune",
      actor: "mailq-bot",
      relay: first.relay,
      ticket: first.ticket,
      requestId: null,
      detail: {
        ids: ms.map((m) => m.queueId),
        bytes: ms.reduce((b, m) => b + m.bytes, 0),
        retentionMs,
        why: "archive.retention",
      },
    });
  }
  return n;
}
