import * as z from "zod";

/**
 * What running an approved request did, as the store keeps it (approvals.result_json) and the
 * approval card shows it. Read back through the schema, so a row that does not hold one is an
 * error naming the request rather than a wrong card.
 */
export const executionResultSchema = z.object({
  outcomes: z.array(z.object({ queueId: z.string(), outcome: z.string() })),
  skipped: z.array(z.object({ queueId: z.string(), why: z.string() })),
  archived: z.array(
    z.object({
      queueId: z.string(),
      path: z.string(),
      bytes: z.number(),
      sha256: z.string().optional(),
      envelope: z.record(z.string(), z.string()),
    }),
  ),
  /** postsuper's summary lines, per queue ("deferred: Placed on hold: 3 messages"). */
  summary: z.array(z.string()),
  /** Everything postsuper / postqueue printed, as it printed it (capped), for the audit. */
  output: z.array(z.string()),
  /** Runs done and planned (batches), while it runs and at the end. */
  progress: z.object({ runs: z.number(), of: z.number(), ids: z.number(), total: z.number() }),
  startedAtMs: z.number(),
  finishedAtMs: z.number().optional(),
  verification: z.string(),
  error: z.string().optional(),
  /** A restore: each original queue ID handed back to the relay, and its new queue ID once seen. */
  restored: z.array(z.object({ queueId: z.string(), newQueueId: z.string().nullable() })).optional(),
});

export type ExecutionResult = z.infer<typeof executionResultSchema>;

/** A stored result_json back into an ExecutionResult; throws naming the request when it is not one. */
export function readExecutionResult(json: string, requestId: string): ExecutionResult {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`approval ${requestId}: its stored result is not JSON`);
  }
  const r = executionResultSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(
      `approval ${requestId}: its stored result is not an execution result (${i?.path.join(".") || "(root)"}: ${i?.message ?? "invalid"})`,
    );
  }
  return r.data;
}
