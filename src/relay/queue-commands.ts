import { isPlainAddress } from "../parsers/address.js";
import { createLineSplitter } from "../parsers/lines.js";
import { isQueueName, parsePostqueueJsonLine, QUEUE_ID_RE, type QueueEntry } from "../parsers/postqueue.js";
import {
  isQueueOperation,
  postcatArgv,
  postsuperArgv,
  type QueueOperation,
  retryArgv,
  sendmailArgv,
} from "./argv.js";
import { explain, type ProbeContext, ProbeFailure, remaining } from "./probes.js";
import type { RunResult } from "./runner.js";

/**
 * The only commands that change a queue, built by the argv builders in argv.ts that also
 * write the approval card's command text. Queue IDs travel on stdin (postsuper) or as the single
 * argument of postqueue -i / postcat -q after a check against QUEUE_ID_RE; no user text
 * is ever part of an argv.
 */

function checkedId(id: string): string {
  if (!QUEUE_ID_RE.test(id))
    throw new Error(`refusing a malformed queue ID: ${JSON.stringify(id.slice(0, 40))}`);
  return id;
}

/** Streams the queue listing and keeps only what `keep` wants (bounded by `cap`). */
export async function listMatching(
  ctx: ProbeContext,
  keep: (e: QueueEntry) => boolean,
  cap: number,
): Promise<{ entries: QueueEntry[]; truncated: boolean }> {
  const entries: QueueEntry[] = [];
  let truncated = false;
  const split = createLineSplitter((line) => {
    if (!line) return;
    const r = parsePostqueueJsonLine(line);
    if (!r.ok || !keep(r.value)) return;
    if (entries.length < cap) entries.push(r.value);
    else truncated = true;
  });
  const r = await ctx.runner.run(["postqueue", "-j"], {
    timeoutMs: remaining(ctx, "postqueue -j"),
    onStdout: (c) => split.push(c),
  });
  split.end();
  if (r.timedOut || r.code !== 0) throw new ProbeFailure("postqueue -j", explain("postqueue -j", r));
  return { entries, truncated };
}

/** `postsuper <flag> - <queue>` for the operation, with the IDs on stdin, one per line. */
export function postsuper(
  ctx: ProbeContext,
  op: QueueOperation,
  queue: string,
  ids: string[],
): Promise<RunResult> {
  if (!isQueueOperation(op)) throw new Error(`refusing postsuper operation ${JSON.stringify(String(op))}`);
  // The queue name comes from postqueue -j's output: only the five real queues reach an argv.
  if (!isQueueName(queue))
    throw new Error(
      `refusing a queue name that is not one of Postfix's queues: ${JSON.stringify(queue.slice(0, 40))}`,
    );
  return ctx.runner.run(postsuperArgv(op, queue, ctx.sudo), {
    stdin: `${ids.map(checkedId).join("\n")}\n`,
    timeoutMs: remaining(ctx, "postsuper"),
  });
}

/** `postqueue -i ID`: one ID per call (postqueue reads no IDs from stdin). */
export function retryNow(ctx: ProbeContext, id: string): Promise<RunResult> {
  return ctx.runner.run(retryArgv(checkedId(id)), { timeoutMs: remaining(ctx, "postqueue -i") });
}

/** The whole queue file as text (`postcat -q`), streamed to `onChunk`. */
export async function postcat(ctx: ProbeContext, id: string, onChunk: (c: Buffer) => void): Promise<void> {
  const r = await ctx.runner.run(postcatArgv(checkedId(id), ctx.sudo), {
    timeoutMs: remaining(ctx, "postcat"),
    onStdout: onChunk,
  });
  if (r.timedOut || r.code !== 0) throw new ProbeFailure("postcat", explain(`postcat -q ${id}`, r));
}

/** At most this many recipients per re-injected message (the relay gate's limit too). */
export const MAX_RESTORE_RECIPIENTS = 1000;

/**
 * `sendmail -G -i -f SENDER -- RCPT…` with the message on stdin: an archived message back into
 * the queue with its original envelope. Every address is checked here, whatever checked it before.
 */
export function reinject(
  ctx: ProbeContext,
  sender: string,
  recipients: string[],
  message: Buffer,
): Promise<RunResult> {
  const bad = [sender, ...recipients].find((a, i) => !(i === 0 && a === "") && !isPlainAddress(a));
  if (bad !== undefined) throw new Error("refusing an envelope address that is not a plain address");
  if (!recipients.length || recipients.length > MAX_RESTORE_RECIPIENTS)
    throw new Error(`refusing ${recipients.length} recipients (1 to ${MAX_RESTORE_RECIPIENTS})`);
  return ctx.runner.run(sendmailArgv(sender, recipients), {
    stdin: message,
    timeoutMs: remaining(ctx, "sendmail"),
  });
}
