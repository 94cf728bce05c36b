import { archiveId, archiveMessage } from "../archive/archive.js";
import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import { parsePostcat, postcatFields } from "../parsers/postcat.js";
import { isQueueName, type QueueEntry } from "../parsers/postqueue.js";
import { parsePostsuper, SUMMARY_VERB } from "../parsers/postsuper.js";
import { POSTSUPER_FLAG } from "../relay/argv.js";
import type { RunnerPool } from "../relay/collect.js";
import type { ProbeContext } from "../relay/probes.js";
import { listMatching, postcat, postsuper, retryNow } from "../relay/queue-commands.js";
import type { ApprovalRequest, ExecutionResult, FrozenMessage, Store } from "../store/store.js";
import {
  type ActionRequest,
  applicable,
  DELETE_RUN_MAX,
  freeze,
  groupByQueue,
  MAX_MESSAGES,
  matches,
  RETRY_CAP,
} from "./request.js";

export interface ActionDeps {
  config: Config;
  pool: RunnerPool;
  nowMs: () => number;
  /** Where each archived message and its checksum are recorded, and the archive step audited. */
  store: Pick<Store, "archive" | "audit">;
  /** Waits between batches; a real timer unless a test gives another. */
  sleep?: (ms: number) => Promise<void>;
}

const MAX_OUTPUT_LINES = 2_000;

export async function context(relayName: string, d: ActionDeps, timeoutMs?: number): Promise<ProbeContext> {
  const relay = d.config.relays.find((r) => r.name === relayName);
  if (!relay) throw new Error(`relay ${relayName} is no longer configured`);
  const runner = await d.pool.get(relay, d.config.probes.timeout);
  return {
    runner,
    sudo: relay.sudo,
    deadlineMs: d.nowMs() + (timeoutMs ?? d.config.probes.listingTimeout),
    nowMs: d.nowMs,
  };
}

export interface Resolved {
  frozen: FrozenMessage[];
  /** More matched than a request may freeze (RETRY_CAP for retry, MAX_MESSAGES otherwise). */
  tooMany: boolean;
  /** Matched the selectors but the action means nothing for them where they are now. */
  notApplicable: number;
}

/** Read-only: the exact messages the request matches now. */
export async function resolveRequest(req: ActionRequest, d: ActionDeps): Promise<Resolved> {
  const ctx = await context(req.relay, d);
  const nowS = Math.floor(d.nowMs() / 1000);
  const cap = req.action === "retry" ? RETRY_CAP : MAX_MESSAGES;
  let notApplicable = 0;
  const { entries, truncated } = await listMatching(
    ctx,
    (e) => {
      // A queue name that is not one of the five (postqueue -j printed something odd) is never frozen.
      if (!isQueueName(e.queueName) || !matches(e, req.selectors, nowS)) return false;
      if (applicable(req.action, e, req.selectors)) return true;
      notApplicable++;
      return false;
    },
    cap,
  );
  return { frozen: entries.map(freeze), tooMany: truncated, notApplicable };
}

function verify(
  action: ApprovalRequest["action"],
  frozen: FrozenMessage[],
  now: Map<string, string>,
): string {
  const n = frozen.length;
  const count = (pred: (q: string | undefined) => boolean) =>
    frozen.filter((f) => pred(now.get(f.queueId))).length;
  switch (action) {
    case "hold":
      return `${count((q) => q === "hold")} of ${n} now on hold`;
    case "release":
      return `${count((q) => q !== undefined && q !== "hold")} of ${n} out of hold`;
    case "delete":
      return `${count((q) => q === undefined)} of ${n} gone from the queue`;
    case "requeue":
      return `${count((q) => q !== undefined)} of ${n} still queued (requeued for a fresh attempt), ${count((q) => q === undefined)} delivered or gone`;
    default:
      return `${count((q) => q === undefined)} of ${n} delivered or gone since the retry, ${count((q) => q !== undefined)} still queued`;
  }
}

/** Why a frozen message may no longer be touched, or undefined when it is still the same message. */
function changed(f: FrozenMessage, c: QueueEntry | undefined): string | undefined {
  if (!c) return "left the queue since the request (delivered, expired or removed); not replaced";
  if (c.arrivalTime !== f.arrivalTime || c.sender !== f.sender)
    return "the ID now names another message (Postfix reused it): arrival time or sender differ";
  return undefined;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A result before anything ran: `total` IDs frozen, none sent yet. */
export function emptyResult(total: number, startedAtMs: number): ExecutionResult {
  return {
    outcomes: [],
    skipped: [],
    archived: [],
    summary: [],
    output: [],
    progress: { runs: 0, of: 0, ids: 0, total },
    startedAtMs,
    verification: "",
  };
}

/**
 * Runs exactly the frozen IDs. Each is checked again first: one that left the queue, or
 * whose arrival time or sender changed (Postfix reuses short IDs), is skipped and reported,
 * never replaced. Commands are scoped to the queue each ID was frozen in. Before a delete
 * every message is archived whole; if any archive fails nothing is deleted. Releases and
 * requeues may run in batches; `onProgress` hears after each run.
 */
export async function execute(
  r: ApprovalRequest,
  d: ActionDeps,
  onProgress?: (partial: ExecutionResult) => Promise<void>,
): Promise<ExecutionResult> {
  const result = emptyResult(r.frozen.length, d.nowMs());
  const say = (lines: string) => {
    for (const l of lines.split("\n"))
      if (l.trim() && result.output.length < MAX_OUTPUT_LINES) result.output.push(l.trimEnd());
  };
  if (r.action === "restore") {
    result.error = "a restore runs through executeRestore";
    return result;
  }
  const sleep = d.sleep ?? realSleep;
  const ids = new Set(r.frozen.map((f) => f.queueId));
  try {
    const check = await context(r.relay, d);
    const { entries } = await listMatching(check, (e) => ids.has(e.queueId), MAX_MESSAGES);
    const current = new Map(entries.map((e) => [e.queueId, e]));
    const eligible: FrozenMessage[] = [];
    for (const f of r.frozen) {
      const why = changed(f, current.get(f.queueId));
      if (why) result.skipped.push({ queueId: f.queueId, why });
      else eligible.push(f);
    }

    if (r.action === "delete") {
      for (const f of eligible) {
        let head = "";
        try {
          const ctx = await context(r.relay, d, d.config.probes.timeout);
          const a = await archiveMessage(
            d.config.archive.path,
            r.relay,
            r.ticket,
            f.queueId,
            f.arrivalTime,
            (sink) =>
              postcat(ctx, f.queueId, (c) => {
                if (head.length < 262_144) head += c.toString("utf8");
                sink(c);
              }),
          );
          const envelope = postcatFields(parsePostcat(head));
          // Recorded before anything is deleted: a message without its checksum in the store is not archived.
          await d.store.archive.record({
            id: archiveId(r.relay, r.ticket, f.queueId, f.arrivalTime),
            relay: r.relay,
            ticket: r.ticket,
            requestId: r.id,
            queueId: f.queueId,
            queueName: f.queueName,
            arrivalTime: f.arrivalTime,
            sender: f.sender,
            recipientDomains: f.recipientDomains,
            path: a.path,
            bytes: a.bytes,
            sha256: a.sha256,
            archivedAtMs: d.nowMs(),
            deletedBy: r.requester,
            approvedBy: r.approvers,
          });
          result.archived.push({ queueId: f.queueId, ...a, envelope });
        } catch (e) {
          result.error = `archiving ${f.queueId} failed (${describeError(e)}); nothing was deleted`;
          result.finishedAtMs = d.nowMs();
          return result;
        }
      }
    }

    if (r.action === "delete" && result.archived.length)
      await d.store.audit.append({
        atMs: d.nowMs(),
        kind: "archive",
        actor: r.approvers.at(-1) ?? "mailq-bot",
        relay: r.relay,
        ticket: r.ticket,
        requestId: r.id,
        detail: {
          ids: result.archived.map((a) => a.queueId),
          bytes: result.archived.reduce((n, a) => n + a.bytes, 0),
          sha256: Object.fromEntries(result.archived.map((a) => [a.queueId, a.sha256])),
        },
      });

    if (r.action === "retry") {
      const run = eligible.slice(0, RETRY_CAP);
      result.progress.of = run.length;
      for (const f of run) {
        const ctx = await context(r.relay, d, d.config.probes.timeout);
        const out = await retryNow(ctx, f.queueId);
        say(out.stderr);
        result.progress.runs++;
        result.progress.ids++;
        result.outcomes.push({
          queueId: f.queueId,
          outcome:
            out.code === 0
              ? "scheduled for immediate delivery"
              : `postqueue -i failed (exit ${out.code ?? "timeout"}): ${out.stderr.trim().slice(0, 200)}`,
        });
      }
    } else {
      const flag = POSTSUPER_FLAG[r.action];
      // The relay gate takes at most DELETE_RUN_MAX IDs per delete (its --max-delete).
      const size = Math.min(
        r.batch?.size ?? MAX_MESSAGES,
        r.action === "delete" ? DELETE_RUN_MAX : MAX_MESSAGES,
      );
      const runs: { queue: string; fs: FrozenMessage[] }[] = [];
      for (const [queue, fs] of groupByQueue(eligible))
        for (let i = 0; i < fs.length; i += size) runs.push({ queue, fs: fs.slice(i, i + size) });
      result.progress.of = runs.length;
      for (const [i, { queue, fs }] of runs.entries()) {
        if (i > 0 && r.batch) {
          await onProgress?.(result);
          await sleep(r.batch.pauseMs);
        }
        const ctx = await context(r.relay, d);
        const out = await postsuper(
          ctx,
          r.action,
          queue,
          fs.map((f) => f.queueId),
        );
        say(out.stderr);
        const parsed = parsePostsuper(out.stderr);
        result.summary.push(...parsed.summary.map((s) => `${queue}: ${s}`));
        for (const f of fs) {
          const said = parsed.perId.get(f.queueId);
          const now = current.get(f.queueId)?.queueName;
          result.outcomes.push({
            queueId: f.queueId,
            outcome:
              said ??
              (now && now !== queue
                ? `not touched: it was in ${now}, not ${queue}, when checked (a delivery under way?)`
                : `not matched in ${queue} (postsuper said nothing about it)`),
          });
        }
        result.progress.runs++;
        result.progress.ids += fs.length;
        const counted = parsed.counts.get(SUMMARY_VERB[flag]);
        const perIdDone = fs.filter((f) => parsed.perId.has(f.queueId)).length;
        if (out.timedOut || out.code !== 0) {
          result.error = `postsuper ${flag} - ${queue} ${out.timedOut ? "timed out" : `exited ${out.code}`}: ${(parsed.fatal ?? out.stderr.trim()).slice(0, 300)}; the remaining runs were not started`;
          break;
        }
        if (counted !== undefined && counted !== perIdDone)
          result.summary.push(`${queue}: postsuper counted ${counted} but named ${perIdDone} of these IDs`);
      }
    }
    const after = await listMatching(await context(r.relay, d), (e) => ids.has(e.queueId), MAX_MESSAGES);
    const now = new Map(after.entries.map((e) => [e.queueId, e.queueName]));
    result.verification = verify(r.action, eligible, now);
  } catch (e) {
    result.error = describeError(e);
  }
  result.finishedAtMs = d.nowMs();
  return result;
}
