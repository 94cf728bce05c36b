import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import { parsePostsuper } from "../parsers/postsuper.js";
import { listMatching, postcat, postsuper, retryNow } from "../relay/actions.js";
import type { RunnerPool } from "../relay/collect.js";
import type { ProbeContext } from "../relay/probes.js";
import type { ApprovalRequest, FrozenMessage } from "../store/store.js";
import { archiveMessage, summarisePostcat } from "./archive.js";
import {
  type ActionRequest,
  freeze,
  groupByQueue,
  MAX_MESSAGES,
  matches,
  POSTSUPER_FLAG,
  RETRY_CAP,
} from "./request.js";

export interface ActionDeps {
  config: Config;
  pool: RunnerPool;
  nowMs: () => number;
}

export interface ExecutionResult {
  outcomes: { queueId: string; outcome: string }[];
  skipped: { queueId: string; why: string }[];
  archived: { queueId: string; path: string; bytes: number; envelope: Record<string, string> }[];
  summary: string[];
  verification: string;
  error?: string;
}

async function context(relayName: string, d: ActionDeps): Promise<ProbeContext> {
  const relay = d.config.relays.find((r) => r.name === relayName);
  if (!relay) throw new Error(`relay ${relayName} is no longer configured`);
  const runner = await d.pool.get(relay, d.config.probes.timeout);
  return { runner, sudo: relay.sudo, deadlineMs: d.nowMs() + d.config.probes.listingTimeout, nowMs: d.nowMs };
}

/** Read-only: the exact messages the request matches now. */
export async function resolveRequest(
  req: ActionRequest,
  d: ActionDeps,
): Promise<{ frozen: FrozenMessage[]; truncated: boolean }> {
  const ctx = await context(req.relay, d);
  const nowS = Math.floor(d.nowMs() / 1000);
  const cap = req.action === "retry" ? RETRY_CAP : MAX_MESSAGES;
  const { entries, truncated } = await listMatching(ctx, (e) => matches(e, req.selectors, nowS), cap);
  return { frozen: entries.map(freeze), truncated };
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
      return `${count((q) => q !== undefined)} of ${n} still queued (requeued for a fresh attempt)`;
    default:
      return `${count((q) => q === undefined)} of ${n} delivered or gone since the retry`;
  }
}

/**
 * Runs exactly the frozen IDs. Each is checked again first: one that left the queue, or
 * whose arrival time or sender changed (Postfix reuses short IDs), is skipped and reported.
 * Before a delete every message is archived whole; if any archive fails nothing is deleted.
 */
export async function execute(r: ApprovalRequest, d: ActionDeps): Promise<ExecutionResult> {
  const result: ExecutionResult = { outcomes: [], skipped: [], archived: [], summary: [], verification: "" };
  try {
    const ctx = await context(r.relay, d);
    const ids = new Set(r.frozen.map((f) => f.queueId));
    const { entries } = await listMatching(ctx, (e) => ids.has(e.queueId), MAX_MESSAGES);
    const current = new Map(entries.map((e) => [e.queueId, e]));
    const eligible: FrozenMessage[] = [];
    for (const f of r.frozen) {
      const c = current.get(f.queueId);
      if (!c) result.skipped.push({ queueId: f.queueId, why: "left the queue since the request" });
      else if (c.arrivalTime !== f.arrivalTime || c.sender !== f.sender)
        result.skipped.push({
          queueId: f.queueId,
          why: "the ID now names another message (Postfix reused it)",
        });
      else eligible.push(f);
    }
    if (r.action === "delete") {
      for (const f of eligible) {
        let head = "";
        try {
          const a = await archiveMessage(
            d.config.archive.path,
            r.relay,
            r.ticket,
            f.queueId,
            f.arrivalTime,
            (sink) =>
              postcat(ctx, f.queueId, (c) => {
                if (head.length < 65_536) head += c.toString("utf8");
                sink(c);
              }),
          );
          result.archived.push({ queueId: f.queueId, ...a, envelope: summarisePostcat(head) });
        } catch (e) {
          result.error = `archiving ${f.queueId} failed (${describeError(e)}); nothing was deleted`;
          return result;
        }
      }
    }
    if (r.action === "retry") {
      for (const f of eligible.slice(0, RETRY_CAP)) {
        const out = await retryNow(ctx, f.queueId);
        result.outcomes.push({
          queueId: f.queueId,
          outcome:
            out.code === 0
              ? "scheduled for immediate delivery"
              : `postqueue -i failed: ${out.stderr.trim().slice(0, 200)}`,
        });
      }
    } else {
      const flag = POSTSUPER_FLAG[r.action];
      for (const [queue, fs] of groupByQueue(eligible)) {
        const out = await postsuper(
          ctx,
          flag,
          queue,
          fs.map((f) => f.queueId),
        );
        const parsed = parsePostsuper(out.stderr);
        result.summary.push(...parsed.summary.map((s) => `${queue}: ${s}`));
        for (const f of fs)
          result.outcomes.push({
            queueId: f.queueId,
            outcome:
              parsed.perId.get(f.queueId) ?? `not matched in ${queue} (postsuper said nothing about it)`,
          });
        if (out.code !== 0)
          result.error = `postsuper ${flag} - ${queue} exited ${out.code}: ${out.stderr.trim().slice(0, 300)}`;
      }
    }
    const after = await listMatching(ctx, (e) => ids.has(e.queueId), MAX_MESSAGES);
    const now = new Map(after.entries.map((e) => [e.queueId, e.queueName]));
    result.verification = verify(r.action, eligible, now);
    return result;
  } catch (e) {
    result.error = describeError(e);
    return result;
  }
}
