/**
 * A store as the code before migrations left it (fixtures/before-migrations.*.sql, copied
 * verbatim), with a row in every table, for the upgrade tests of both stores.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import type { Store } from "../../src/store/store.js";

export function beforeMigrationsSchema(kind: "sqlite" | "postgres"): string {
  return readFileSync(new URL(`./fixtures/before-migrations.${kind}.sql`, import.meta.url), "utf8");
}

/** Plain SQL that both SQLite and PostgreSQL accept (and stores from before batches: no batch_json). */
export const OLD_ROWS = `
INSERT INTO snapshots (relay, taken_at_ms, messages, json)
  VALUES ('relay-a', 1700000000000, 42, '{"relay":"relay-a","messages":42}');
INSERT INTO watches (id, relay, channel_id, message_ts, created_by, interval_ms, started_at_ms, next_due_ms, updates)
  VALUES ('w-old', 'relay-a', 'C0123', '1700000000.000100', 'U0001', 300000, 1700000000000, 1700000300000, 3);
INSERT INTO watch_updates (watch_id, seq, due_ms, claimed_at_ms, message_ts, posted)
  VALUES ('w-old', 1, 1700000300000, 1700000300001, '1700000300.000200', 1);
INSERT INTO approvals (id, relay, action, selector, ticket, reason, requester, channel_id, message_ts,
  created_at_ms, expires_at_ms, status, frozen_json, command, approvers_json, result_json, version)
  VALUES ('r-old', 'relay-a', 'release', 'queue=hold domain=example.org', 'OPS-42', 'customer asked', 'U0001',
  'C0123', NULL, 1000, 901000, 'pending',
  '[{"queueId":"4XyZ1abcD","queueName":"hold","arrivalTime":1700000000,"sender":"bounce@shop.example","recipientDomains":["example.org"]}]',
  'postsuper -H -', '[]', NULL, 1);
INSERT INTO audit (at_ms, kind, actor, relay, ticket, request_id, detail_json)
  VALUES (1001, 'request', 'U0001', 'relay-a', 'OPS-42', 'r-old', '{"action":"release"}');
INSERT INTO archive (id, relay, ticket, request_id, queue_id, queue_name, arrival_time, sender,
  recipient_domains_json, path, bytes, sha256, archived_at_ms, deleted_by, approved_by_json)
  VALUES ('a-old', 'relay-a', 'OPS-42', 'r-old', '9GhI5jklM', 'deferred', 1700000000, 'bounce@shop.example',
  '["example.org"]', '/var/lib/mailq/archive/a-old.eml', 1234, 'ab12', 1700000001000, 'U0001', '["U0002"]');
INSERT INTO leases (name, holder, expires_at_ms) VALUES ('watch-scheduler', 'host:1:abc', 1700000010000);
`;

/** Every row of OLD_ROWS, read back through the new code. */
export async function expectOldRowsIntact(s: Store): Promise<void> {
  const [snap] = await s.snapshots.latest("relay-a", 5);
  expect(snap).toMatchObject({ relay: "relay-a", takenAtMs: 1700000000000, snapshot: { messages: 42 } });
  expect(await s.watches.get("w-old")).toMatchObject({ channelId: "C0123", intervalMs: 300000, updates: 3 });
  expect(await s.watches.updateLog("w-old")).toMatchObject([{ seq: 1, posted: true }]);
  const r = await s.approvals.get("r-old");
  expect(r).toMatchObject({ status: "pending", ticket: "OPS-42", approvers: [], result: null, version: 1 });
  expect(r?.frozen[0]).toMatchObject({ queueId: "4XyZ1abcD", recipientDomains: ["example.org"] });
  expect((await s.approvals.pending()).map((a) => a.id)).toContain("r-old");
  expect(await s.audit.list({ ticket: "OPS-42", limit: 10 })).toMatchObject([
    { kind: "request", requestId: "r-old", detail: { action: "release" } },
  ]);
  expect(await s.archive.get("a-old")).toMatchObject({
    sha256: "ab12",
    approvedBy: ["U0002"],
    restore: null,
  });
  expect(await s.leases.get("watch-scheduler")).toEqual({
    name: "watch-scheduler",
    holder: "host:1:abc",
    expiresAtMs: 1700000010000,
  });
}

/** A migration from a mailq-bot newer than this one, as it would have recorded itself. */
export const FUTURE_MIGRATION = "0099_from_a_newer_release";
