import * as z from "zod";
import { REASON_CLASSES } from "../analysis/reasons.js";
import { STATUS_SCHEMA_VERSION, type statusDocument } from "./status-document.js";

/*
 * `mailq-bot status --json`, as zod: the contract scripts rely on. The JSON Schema shipped beside
 * it (status-document.schema.json) is generated from it (npm run schema), and a test checks both
 * that it is up to date and that real output passes it. Not imported by the CLI: building some
 * fifty zod schemas would cost every status run's start-up for a document it never validates.
 */

const obj = z.strictObject;
const count = z.number().int().nonnegative();
const iso = z.string().describe("ISO 8601 time, UTC");
const queues = obj({ maildrop: count, incoming: count, active: count, deferred: count, hold: count });
const reasonClass = z.enum(REASON_CLASSES);
const share = z.number().min(0).max(100);
const diskUsage = obj({
  filesystem: z.string(),
  mountedOn: z.string(),
  total: z.number(),
  used: z.number(),
  available: z.number(),
  usedPercent: z.number(),
});
const reasonRow = obj({ reason: z.string(), class: reasonClass, count });
const domainRow = obj({ domain: z.string(), count });
const change = obj({
  minutes: z.number(),
  messages: z.number().int(),
  queues: obj({
    maildrop: z.number().int(),
    incoming: z.number().int(),
    active: z.number().int(),
    deferred: z.number().int(),
    hold: z.number().int(),
  }),
});

export const progressSchema = obj({
  relay: z.string(),
  sinceLast: change.nullable(),
  sinceStart: change.nullable(),
  startedAt: iso.nullable(),
  drainPerMinute: z.number().nullable(),
  minutesToEmpty: z.number().nullable(),
  minutesToFirstBounce: z.number().nullable(),
  reasons: z.array(
    obj({
      reason: z.string(),
      class: reasonClass,
      now: count,
      before: count,
      trend: z.enum(["up", "down", "same", "new", "gone"]),
    }),
  ),
  newCauses: z.array(z.string()),
});

export const relaySnapshotSchema = obj({
  relay: z.string(),
  ok: z.boolean().describe("the relay answered; Postfix itself may be down: see service.masterRunning"),
  error: z.string().optional().describe("why the relay did not answer, when ok is false"),
  takenAt: iso,
  messages: count,
  recipients: count,
  bytes: count,
  queues,
  queueFiles: obj({
    maildrop: count.nullable(),
    incoming: count.nullable(),
    active: count.nullable(),
    deferred: count.nullable(),
    hold: count.nullable(),
  }).nullable(),
  oldestArrival: iso.nullable(),
  oldestDeferredArrival: iso.nullable(),
  ageBuckets: z.array(obj({ maxMinutes: z.number().nullable(), count })),
  topReasons: z.array(reasonRow),
  topDomains: z.array(domainRow),
  topSenderDomains: z.array(domainRow),
  disk: obj({
    path: z.string(),
    bytes: diskUsage.nullable(),
    inodes: diskUsage.nullable(),
    warning: z.boolean(),
  }).nullable(),
  service: obj({
    masterRunning: z.boolean(),
    masterPid: z.number().int().optional(),
    qmgrRunning: z.boolean(),
    qmgrPid: z.number().int().optional(),
    qmgrUptimeS: z.number().optional(),
    statusMessage: z.string(),
  }).nullable(),
  load: obj({
    load1: z.number(),
    load5: z.number(),
    load15: z.number(),
    ioPressurePercent: share
      .nullable()
      .describe(
        "share of the last 10 s during which at least one task was stalled on I/O (Linux PSI, /proc/pressure/io some avg10); null when the relay's kernel has no PSI (then iowaitPercent is measured instead)",
      ),
    ioPressureFullPercent: share
      .nullable()
      .describe(
        "share of the last 10 s during which every non-idle task was stalled on I/O at once (PSI full avg10); null without PSI",
      ),
    iowaitPercent: z
      .number()
      .nullable()
      .describe(
        "CPU time waiting on I/O over one second (vmstat 1 2, column wa); measured only when PSI did not answer, so null whenever ioPressurePercent is a number, and when vmstat failed too",
      ),
  })
    .nullable()
    .describe("null when /proc/loadavg could not be read"),
  log: obj({
    source: z.string(),
    linesRead: count,
    deferrals: count,
    windowMinutes: z.number(),
    newestMs: z.number().nullable(),
    reasons: z.array(reasonRow),
  }).nullable(),
  postfix: obj({
    version: z.string(),
    maximalQueueLifetimeS: z.number().nullable(),
    concurrency: z.record(z.string(), z.string()),
  }).nullable(),
  complete: z
    .boolean()
    .describe(
      "false when the listing is not whole (exit code 3): still running (a first answer), cut by its deadline, or impossible while Postfix's master is not running; probeErrors says which",
    ),
  listing: obj({
    complete: z.boolean(),
    entriesRead: count,
    parseErrors: count,
    shareRead: z.number().min(0).max(1).nullable(),
    countsExact: z.boolean(),
  }),
  probeErrors: z.array(obj({ probe: z.string(), message: z.string() })),
});

export const statusDocumentSchema = obj({
  schemaVersion: z.literal(STATUS_SCHEMA_VERSION),
  relays: z.array(relaySnapshotSchema.extend({ progress: progressSchema.nullable() })),
}).describe("mailq-bot status --json");

export type StatusDocument = z.infer<typeof statusDocumentSchema>;

// Compile-time: every snapshot the code builds is an input the schema was written for.
const _fits = (d: ReturnType<typeof statusDocument>): z.input<typeof statusDocumentSchema> => d;
void _fits;

/**
 * The JSON Schema of the document (draft 2020-12), as shipped in the repository. Unlike the zod
 * types (strict, so the bot cannot emit a field the contract does not name), its objects accept
 * fields they do not list: a field added within a schemaVersion must not fail a script that
 * validates against the schema file it was written with.
 */
export function statusJsonSchema(): string {
  const schema = z.toJSONSchema(statusDocumentSchema, {
    target: "draft-2020-12",
    override: ({ jsonSchema }) => {
      if (jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
    },
  });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
