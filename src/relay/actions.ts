import { createLineSplitter } from "../parsers/lines.js";
import { parsePostqueueJsonLine, type QueueEntry } from "../parsers/postqueue.js";
import { asRoot, type ProbeContext, ProbeFailure } from "./probes.js";
import type { RunResult } from "./runner.js";

/**
 * The only commands that change a queue. Queue IDs travel on stdin (postsuper) or as a
 * single argument already checked against QUEUE_ID_RE (postqueue -i, postcat -q).
 */
const left = (ctx: ProbeContext, what: string) => {
  const ms = ctx.deadlineMs - ctx.nowMs();
  if (ms <= 0) throw new ProbeFailure(what, "no time left before the deadline");
  return ms;
};

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
    timeoutMs: left(ctx, "postqueue -j"),
    onStdout: (c) => split.push(c),
  });
  split.end();
  if (r.timedOut || r.code !== 0)
    throw new ProbeFailure(
      "postqueue -j",
      `postqueue -j failed (exit ${r.code ?? "timeout"}): ${r.stderr.trim().slice(0, 200)}`,
    );
  return { entries, truncated };
}

export function postsuper(ctx: ProbeContext, flag: string, queue: string, ids: string[]): Promise<RunResult> {
  return ctx.runner.run(asRoot(ctx, ["postsuper", flag, "-", queue]), {
    stdin: `${ids.join("\n")}\n`,
    timeoutMs: left(ctx, "postsuper"),
  });
}

export function retryNow(ctx: ProbeContext, id: string): Promise<RunResult> {
  return ctx.runner.run(["postqueue", "-i", id], { timeoutMs: left(ctx, "postqueue -i") });
}

/** The whole queue file as text (`postcat -q`), streamed to `onChunk`. */
export async function postcat(ctx: ProbeContext, id: string, onChunk: (c: Buffer) => void): Promise<void> {
  const r = await ctx.runner.run(asRoot(ctx, ["postcat", "-q", id]), {
    timeoutMs: left(ctx, "postcat"),
    onStdout: onChunk,
  });
  if (r.timedOut || r.code !== 0)
    throw new ProbeFailure(
      "postcat",
      `postcat -q ${id} failed (exit ${r.code ?? "timeout"}): ${r.stderr.trim().slice(0, 200)}`,
    );
}
