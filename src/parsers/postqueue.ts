export const QUEUE_NAMES = ["maildrop", "incoming", "active", "deferred", "hold"] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Short IDs are upper-case hex; long IDs (enable_long_queue_ids) use [0-9A-Za-z]. */
export const QUEUE_ID_RE = /^[0-9A-Za-z]{5,32}$/;

export interface QueueRecipient {
  address: string;
  delayReason: string | undefined;
}

export interface QueueEntry {
  queueName: QueueName | "corrupt" | string;
  queueId: string;
  /** Seconds since the epoch, as Postfix reports it. */
  arrivalTime: number;
  messageSize: number;
  forcedExpire: boolean;
  sender: string;
  recipients: QueueRecipient[];
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

/**
 * One line of `postqueue -j` (one JSON object per message). Checked by hand rather than
 * with a schema: this runs once per queued message, up to millions of times.
 */
export function parsePostqueueJsonLine(line: string): ParseResult<QueueEntry> {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return fail("not JSON");
  }
  if (typeof o !== "object" || o === null) return fail("not a JSON object");
  const r = o as Record<string, unknown>;
  const queueName = r.queue_name;
  const queueId = r.queue_id;
  if (typeof queueName !== "string") return fail("queue_name missing");
  if (typeof queueId !== "string" || !QUEUE_ID_RE.test(queueId)) return fail("queue_id missing or malformed");
  const arrival = typeof r.arrival_time === "number" ? r.arrival_time : 0;
  const size = typeof r.message_size === "number" ? r.message_size : 0;
  const rawRcpts = Array.isArray(r.recipients) ? r.recipients : [];
  const recipients: QueueRecipient[] = [];
  for (const rc of rawRcpts) {
    if (typeof rc !== "object" || rc === null) continue;
    const a = (rc as Record<string, unknown>).address;
    const d = (rc as Record<string, unknown>).delay_reason;
    recipients.push({
      address: typeof a === "string" ? a : "",
      delayReason: typeof d === "string" ? d : undefined,
    });
  }
  return {
    ok: true,
    value: {
      queueName,
      queueId,
      arrivalTime: arrival,
      messageSize: size,
      forcedExpire: r.forced_expire === true,
      sender: typeof r.sender === "string" ? r.sender : "",
      recipients,
    },
  };
}

export function isQueueName(s: string): s is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(s);
}

/** "user@Example.COM" → "example.com"; "" for the null sender or a bare local part. */
export function addressDomain(address: string): string {
  const at = address.lastIndexOf("@");
  if (at < 0) return "";
  return address.slice(at + 1).toLowerCase();
}
