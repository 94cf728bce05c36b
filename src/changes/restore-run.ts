import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { describeError } from "../errors.js";
import { isPlainAddress } from "../parsers/address.js";
import { type ArchivedEnvelope, parseArchivedMessage } from "../parsers/archived-message.js";
import { listMatching, MAX_RESTORE_RECIPIENTS, postcat, reinject } from "../relay/queue-commands.js";
import type { ApprovalRequest, ArchivedMessage, ExecutionResult, FrozenMessage } from "../store/store.js";
import { type ActionDeps, context, emptyResult } from "./execute.js";
import { MAX_RESTORE } from "./restore.js";

interface Ready {
  f: FrozenMessage;
  rec: ArchivedMessage;
  env: ArchivedEnvelope;
}

/** Why an archived message cannot go back exactly as archived, or its parsed copy. */
async function load(f: FrozenMessage, d: ActionDeps): Promise<Ready | string> {
  if (!f.archive) return "not an archived message";
  const rec = await d.store.archive.get(f.archive.id);
  if (!rec) return "no longer in the store's archive records";
  if (rec.prunedAtMs !== null) return "pruned from the archive (archive.retention)";
  if (rec.sha256 !== f.archive.sha256) return "archived again since the request (its checksum changed)";
  let file: Buffer;
  try {
    file = await readFile(rec.path);
  } catch (e) {
    return `the archived file cannot be read (${describeError(e)})`;
  }
  const sha = createHash("sha256").update(file).digest("hex");
  if (sha !== rec.sha256)
    return `checksum mismatch: the archived file changed since it was archived (sha256 ${sha.slice(0, 12)}…, recorded ${rec.sha256.slice(0, 12)}…)`;
  const env = parseArchivedMessage(file);
  if (typeof env === "string") return env;
  if (env.queueId !== rec.queueId) return `the archived file holds ${env.queueId}, not ${rec.queueId}`;
  if (env.sender !== "" && !isPlainAddress(env.sender))
    return "its envelope sender is not a plain address; it cannot be passed to sendmail safely";
  if (env.recipients.some((a) => !isPlainAddress(a)))
    return "a recipient is not a plain address; it cannot be passed to sendmail safely";
  if (env.recipients.length > MAX_RESTORE_RECIPIENTS) return `more than ${MAX_RESTORE_RECIPIENTS} recipients`;
  return { f, rec, env };
}

/**
 * Re-injects exactly the frozen archived messages, each once across every request: all are
 * checked against their recorded checksums first (any mismatch refuses the whole restore),
 * then each is claimed in the store (compare-and-set) before `sendmail` sees it. A sendmail
 * that failed gives its claim back, so asking again resumes with what did not go; one whose
 * outcome is unknown (timed out) keeps its claim, so nothing is ever sent twice.
 */
export async function executeRestore(
  r: ApprovalRequest,
  d: ActionDeps,
  onProgress?: (partial: ExecutionResult) => Promise<void>,
): Promise<ExecutionResult> {
  const result: ExecutionResult = { ...emptyResult(r.frozen.length, d.nowMs()), restored: [] };
  const restored = result.restored as NonNullable<ExecutionResult["restored"]>;
  const outcome = new Map<string, string>();
  const say = (lines: string) => {
    for (const l of lines.split("\n")) if (l.trim() && result.output.length < 2_000) result.output.push(l);
  };
  try {
    const ready: Ready[] = [];
    const problems: { queueId: string; why: string }[] = [];
    for (const f of r.frozen) {
      const x = await load(f, d);
      if (typeof x === "string") problems.push({ queueId: f.queueId, why: x });
      else ready.push(x);
    }
    if (problems.length) {
      result.skipped = problems;
      result.error = `refused: ${problems.length} of ${r.frozen.length} archived message(s) cannot be restored as archived (first: ${problems[0]?.queueId} ${problems[0]?.why}); nothing was re-injected. \`mailq-bot archive verify\` checks the whole archive`;
      result.finishedAtMs = d.nowMs();
      return result;
    }
    const startS = Math.floor(d.nowMs() / 1000);
    result.progress.of = ready.length;
    let stopped: string | undefined;
    for (const { f, rec, env } of ready) {
      if (stopped) {
        outcome.set(f.queueId, `not attempted: ${stopped}`);
        continue;
      }
      if (!(await d.store.archive.claimRestore(rec.id, r.id, d.nowMs()))) {
        const now = (await d.store.archive.get(rec.id))?.restore;
        result.skipped.push({
          queueId: f.queueId,
          why: now?.restoredAtMs
            ? `already restored by request ${now.requestId.slice(0, 8)}${now.newQueueId ? ` as ${now.newQueueId}` : ""}; not sent twice`
            : `claimed by restore request ${now?.requestId.slice(0, 8) ?? "?"}, whose outcome is unknown; check the queue before asking again`,
        });
        continue;
      }
      const ctx = await context(r.relay, d, d.config.probes.timeout);
      const header = Buffer.from(`X-Mailq-Restored: ${r.id} ${f.queueId}\n`, "latin1");
      let why: string | undefined;
      let unknown = false;
      try {
        const out = await reinject(ctx, env.sender, env.recipients, Buffer.concat([header, env.content]));
        say(out.stderr);
        if (out.timedOut) {
          why =
            "sendmail timed out, so whether it reached the queue is unknown (it stays claimed, never sent twice)";
          unknown = true;
        } else if (out.code !== 0) why = `sendmail exited ${out.code}: ${out.stderr.trim().slice(0, 200)}`;
      } catch (e) {
        why = describeError(e);
      }
      result.progress.runs++;
      result.progress.ids++;
      if (why === undefined) {
        await d.store.archive.markRestored(rec.id, r.id, d.nowMs(), null);
        restored.push({ queueId: f.queueId, newQueueId: null });
        outcome.set(f.queueId, "re-injected");
      } else {
        if (!unknown) await d.store.archive.releaseRestore(rec.id, r.id);
        outcome.set(f.queueId, `not re-injected: ${why}`);
        stopped = `the restore stopped at ${f.queueId}; ask again for the same messages to resume (those already back are skipped)`;
        result.error = `re-injecting ${f.queueId} failed (${why}); ${restored.length} of ${ready.length} went back, the rest did not`;
      }
      await onProgress?.(result);
    }

    // The new queue IDs: messages that arrived since the start, read back for their X-Mailq-Restored header.
    if (restored.length) {
      const senders = new Set(ready.map((x) => x.env.sender));
      const { entries } = await listMatching(
        await context(r.relay, d),
        (e) => e.arrivalTime >= startS - 1 && senders.has(e.sender),
        MAX_RESTORE * 2,
      );
      const byOld = new Map(restored.map((x) => [x.queueId, x]));
      for (const e of entries) {
        let head = "";
        try {
          await postcat(await context(r.relay, d, d.config.probes.timeout), e.queueId, (c) => {
            if (head.length < 262_144) head += c.toString("latin1");
          });
        } catch {
          continue; // delivered or moved on since the listing
        }
        const m = /^X-Mailq-Restored: (\S+) ([0-9A-Za-z]+)\r?$/m.exec(head);
        const link = m && m[1] === r.id ? byOld.get(m[2] as string) : undefined;
        if (!link || link.newQueueId) continue;
        link.newQueueId = e.queueId;
        const rec = ready.find((x) => x.f.queueId === link.queueId)?.rec;
        if (rec) await d.store.archive.markRestored(rec.id, r.id, d.nowMs(), e.queueId);
        outcome.set(link.queueId, `re-injected as ${e.queueId}`);
      }
    }
    for (const f of r.frozen) {
      const o = outcome.get(f.queueId);
      if (o) result.outcomes.push({ queueId: f.queueId, outcome: o });
    }
    const seen = restored.filter((x) => x.newQueueId).length;
    result.verification = `${restored.length} of ${r.frozen.length} re-injected, ${seen} of them seen back in the queue under a new ID${restored.length > seen ? ` (${restored.length - seen} not seen: delivered already?)` : ""}`;

    // The original tickets' trails tell the rest of the story.
    const byTicket = new Map<string, { queueId: string; newQueueId: string | null }[]>();
    for (const x of restored) {
      const t = ready.find((y) => y.f.queueId === x.queueId)?.rec.ticket ?? r.ticket;
      byTicket.set(t, [...(byTicket.get(t) ?? []), x]);
    }
    for (const [ticket, links] of byTicket)
      await d.store.audit.append({
        atMs: d.nowMs(),
        kind: "restore",
        actor: r.approvers.at(-1) ?? "mailq-bot",
        relay: r.relay,
        ticket,
        requestId: r.id,
        detail: { restoreTicket: r.ticket, requester: r.requester, approvers: r.approvers, links },
      });
  } catch (e) {
    result.error = describeError(e);
  }
  result.finishedAtMs = d.nowMs();
  return result;
}
