/**
 * The PostgreSQL migrations, mirroring the SQLite ones (src/store/sqlite/schema.ts); run when the
 * store opens, in one transaction under an advisory lock so that replicas starting at the same
 * moment migrate once. Times are BIGINT milliseconds; JSON is kept as TEXT, as in SQLite, so
 * that every document round-trips byte for byte (jsonb refuses \u0000).
 */
import type pg from "pg";
import { MIGRATIONS_TABLE, type Migration, type MigrationLog } from "../migrate.js";

/** pg_advisory_xact_lock key for schema changes: "mailq" in ASCII. */
export const SCHEMA_LOCK_KEY = 0x6d61696c71;

/** The schema as mailq-bot created it before migrations; IF NOT EXISTS lets it adopt such a store. */
const BASELINE = `
CREATE TABLE IF NOT EXISTS snapshots (
  id BIGSERIAL PRIMARY KEY,
  relay TEXT NOT NULL,
  taken_at_ms BIGINT NOT NULL,
  messages BIGINT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_relay_time ON snapshots (relay, taken_at_ms);

CREATE TABLE IF NOT EXISTS watches (
  id TEXT PRIMARY KEY,
  relay TEXT,
  channel_id TEXT NOT NULL,
  message_ts TEXT,
  created_by TEXT NOT NULL,
  interval_ms BIGINT NOT NULL,
  started_at_ms BIGINT NOT NULL,
  next_due_ms BIGINT NOT NULL,
  updates INTEGER NOT NULL DEFAULT 0,
  drained_streak INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active',
  stop_reason TEXT,
  version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS watch_updates (
  watch_id TEXT NOT NULL REFERENCES watches(id),
  seq INTEGER NOT NULL,
  due_ms BIGINT NOT NULL,
  claimed_at_ms BIGINT NOT NULL,
  message_ts TEXT,
  posted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (watch_id, seq)
);

CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  relay TEXT NOT NULL,
  action TEXT NOT NULL,
  selector TEXT NOT NULL,
  ticket TEXT NOT NULL,
  reason TEXT NOT NULL,
  requester TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  message_ts TEXT,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  status TEXT NOT NULL,
  frozen_json TEXT NOT NULL,
  command TEXT NOT NULL,
  batch_json TEXT,
  approvers_json TEXT NOT NULL DEFAULT '[]',
  result_json TEXT,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status);
-- Stores created before batches existed.
ALTER TABLE approvals ADD COLUMN IF NOT EXISTS batch_json TEXT;

CREATE TABLE IF NOT EXISTS audit (
  id BIGSERIAL PRIMARY KEY,
  at_ms BIGINT NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  relay TEXT,
  ticket TEXT,
  request_id TEXT,
  detail_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ticket ON audit (ticket);
CREATE INDEX IF NOT EXISTS audit_relay ON audit (relay);

-- Append-only: the audit trail is evidence. Triggers bind the table's owner too; the REVOKE
-- keeps other roles from even trying.
CREATE OR REPLACE FUNCTION mailq_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION mailq_audit_append_only();
CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION mailq_audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM PUBLIC;

-- Every message archived before a delete, with its checksum and what became of it (restore, prune).
CREATE TABLE IF NOT EXISTS archive (
  id TEXT PRIMARY KEY,
  relay TEXT NOT NULL,
  ticket TEXT NOT NULL,
  request_id TEXT NOT NULL,
  queue_id TEXT NOT NULL,
  queue_name TEXT NOT NULL,
  arrival_time BIGINT NOT NULL,
  sender TEXT NOT NULL,
  recipient_domains_json TEXT NOT NULL,
  path TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  archived_at_ms BIGINT NOT NULL,
  deleted_by TEXT NOT NULL,
  approved_by_json TEXT NOT NULL DEFAULT '[]',
  restore_request_id TEXT,
  restore_claimed_at_ms BIGINT,
  restored_at_ms BIGINT,
  restored_queue_id TEXT,
  pruned_at_ms BIGINT
);
CREATE INDEX IF NOT EXISTS archive_ticket ON archive (ticket);
CREATE INDEX IF NOT EXISTS archive_relay_time ON archive (relay, archived_at_ms);

-- Named leases (one holder at a time across processes, until expires_at_ms).
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at_ms BIGINT NOT NULL
);
`;

export const POSTGRES_MIGRATIONS: readonly Migration<pg.ClientBase>[] = [
  {
    name: "0001_baseline",
    async up(db) {
      await db.query(BASELINE);
    },
  },
  {
    // The baseline here already has it (SQLite's did not); kept so both stores count versions alike.
    name: "0002_approvals_status_index",
    async up(db) {
      await db.query("CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status)");
    },
  },
];

export const POSTGRES_MIGRATION_LOG: MigrationLog<pg.ClientBase> = {
  async ensure(db) {
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)`,
    );
  },
  async executed(db) {
    const r = await db.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name`);
    return r.rows.map((x) => x.name);
  },
  async record(db, name, atMs) {
    await db.query(`INSERT INTO ${MIGRATIONS_TABLE} (name, applied_at_ms) VALUES ($1, $2)`, [name, atMs]);
  },
};
