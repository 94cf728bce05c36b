import { readdir, readFile, stat, unlink } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { parseArchivedMessage } from "../parsers/archived-message.js";
import { addressDomain } from "../parsers/postqueue.js";
import type { ArchivedMessage, Store } from "../store/store.js";
import { archiveId, checkArchived, fileSha256 } from "./archive.js";

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

/** `<relay>/<ticket>/<queueId>-<arrival>.postcat` under the archive folder, as archivePath writes them. */
const ARCHIVE_FILE =
  /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})\/([0-9A-Za-z]{5,32})-(\d+)\.postcat$/;

/** Archived files the store has no record of: written before checksums were kept (or by hand). */
export async function unrecordedFiles(store: Pick<Store, "archive">, dir: string): Promise<string[]> {
  const known = new Set((await store.archive.list({ includePruned: true })).map((m) => m.path));
  const found: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (depth < 2) await walk(p, depth + 1);
      else if (n.endsWith(".postcat") && !known.has(p)) found.push(p);
    }
  };
  await walk(dir, 0);
  return found.sort();
}

/**
 * Records files archived before checksums were kept: the checksum is taken now (so it proves
 * the file has not changed since adoption, not since the delete), the envelope from the file,
 * and who deleted it from the delete's audit entry when there is one. Audited.
 */
export async function adoptUnrecorded(
  store: Pick<Store, "archive" | "audit">,
  dir: string,
  nowMs: number,
): Promise<{ adopted: string[]; skipped: { path: string; why: string }[] }> {
  const files = await unrecordedFiles(store, dir);
  const byPath = new Map<string, { requestId: string | null; actor: string; approvers: string[] }>();
  if (files.length)
    for await (const e of store.audit.all()) {
      if (e.kind !== "execute" || e.detail.action !== "delete") continue;
      const result = e.detail.result as { archived?: { path?: unknown }[] } | undefined;
      const approvers = Array.isArray(e.detail.approvers) ? e.detail.approvers.map(String) : [];
      const requester = typeof e.detail.requester === "string" ? e.detail.requester : "unknown";
      for (const a of result?.archived ?? [])
        if (typeof a.path === "string")
          byPath.set(a.path, { requestId: e.requestId, actor: requester, approvers });
    }
  const adopted: string[] = [];
  const skipped: { path: string; why: string }[] = [];
  for (const path of files) {
    const m = ARCHIVE_FILE.exec(relative(dir, path).split(sep).join("/"));
    if (!m) {
      skipped.push({ path, why: "not named <relay>/<ticket>/<queueId>-<arrival>.postcat" });
      continue;
    }
    const [, relay = "", ticket = "", queueId = "", arrival = "0"] = m;
    const env = parseArchivedMessage(await readFile(path));
    if (typeof env === "string") {
      skipped.push({ path, why: env });
      continue;
    }
    const from = byPath.get(path);
    await store.archive.record({
      id: archiveId(relay, ticket, queueId, Number(arrival)),
      relay,
      ticket,
      requestId: from?.requestId ?? "unknown",
      queueId,
      queueName: "unknown",
      arrivalTime: Number(arrival),
      sender: env.sender,
      recipientDomains: [...new Set(env.recipients.map(addressDomain))],
      path,
      bytes: (await stat(path)).size,
      sha256: await fileSha256(path),
      archivedAtMs: Math.floor((await stat(path)).mtimeMs),
      deletedBy: from?.actor ?? "unknown",
      approvedBy: from?.approvers ?? [],
    });
    await store.audit.append({
      atMs: nowMs,
      kind: "archive",
      actor: "mailq-bot",
      relay,
      ticket,
      requestId: from?.requestId ?? null,
      detail: {
        ids: [queueId],
        adopted: true,
        why: "archived before checksums were kept; checksum taken now",
      },
    });
    adopted.push(path);
  }
  return { adopted, skipped };
}
