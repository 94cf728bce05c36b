import type Database from "better-sqlite3";
import { MIGRATIONS_TABLE, type Migration, type MigrationLog } from "../migrate.js";

type Db = Database.Database;

/** The schema as mailq-bot created it before migrations; IF NOT EXISTS lets it adopt such a store. */
const BASELINE = `
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  relay TEXT NOT NULL,
  taken_at_ms INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_relay_time ON snapshots (relay, taken_at_ms);

CREATE TABLE IF NOT EXISTS watches (
  id TEXT PRIMARY KEY,
  relay TEXT,
  channel_id TEXT NOT NULL,
  message_ts TEXT,
  created_by TEXT NOT NULL,
  interval_ms INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  next_due_ms INTEGER NOT NULL,
  updates INTEGER NOT NULL DEFAULT 0,
  drained_streak INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active',
  stop_reason TEXT,
  version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS watch_updates (
  watch_id TEXT NOT NULL REFERENCES watches(id),
  seq INTEGER NOT NULL,
  due_ms INTEGER NOT NULL,
  claimed_at_ms INTEGER NOT NULL,
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
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  frozen_json TEXT NOT NULL,
  command TEXT NOT NULL,
  batch_json TEXT,
  approvers_json TEXT NOT NULL DEFAULT '[]',
  result_json TEXT,
  version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  relay TEXT,
  ticket TEXT,
  request_id TEXT,
  detail_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ticket ON audit (ticket);
CREATE INDEX IF NOT EXISTS audit_relay ON audit (relay);
-- Append-only: the audit trail is evidence.
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

-- Every message archived before a delete, with its checksum and what became of it (restore, prune).
CREATE TABLE IF NOT EXISTS archive (
  id TEXT PRIMARY KEY,
  relay TEXT NOT NULL,
  ticket TEXT NOT NULL,
  request_id TEXT NOT NULL,
  queue_id TEXT NOT NULL,
  queue_name TEXT NOT NULL,
  arrival_time INTEGER NOT NULL,
  sender TEXT NOT NULL,
  recipient_domains_json TEXT NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  archived_at_ms INTEGER NOT NULL,
  deleted_by TEXT NOT NULL,
  approved_by_json TEXT NOT NULL DEFAULT '[]',
  restore_request_id TEXT,
  restore_claimed_at_ms INTEGER,
  restored_at_ms INTEGER,
  restored_queue_id TEXT,
  pruned_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS archive_ticket ON archive (ticket);
CREATE INDEX IF NOT EXISTS archive_relay_time ON archive (relay, archived_at_ms);

-- Named leases (one holder at a time across processes, until expires_at_ms).
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
`;

export const SQLITE_MIGRATIONS: readonly Migration<Db>[] = [
  {
    name: "0001_baseline",
    up(db) {
      db.exec(BASELINE);
      // Stores created before batches existed (SQLite has no ADD COLUMN IF NOT EXISTS).
      const approvalColumns = db.prepare("PRAGMA table_info(approvals)").all() as { name: string }[];
      if (!approvalColumns.some((c) => c.name === "batch_json"))
        db.exec("ALTER TABLE approvals ADD COLUMN batch_json TEXT");
    },
  },
  {
    // As in PostgreSQL: the pending list and the scrape read approvals by status.
    name: "0002_approvals_status_index",
    up(db) {
      db.exec("CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status)");
    },
  },
];

function executed(db: Db): string[] {
  return (db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name`).all() as { name: string }[]).map(
    (r) => r.name,
  );
}

export const SQLITE_MIGRATION_LOG: MigrationLog<Db> & { executedIfAny(db: Db): string[] } = {
  ensure(db) {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at_ms INTEGER NOT NULL)`,
    );
  },
  executed,
  /** Without creating the table (a read takes no lock): none when it is missing. */
  executedIfAny(db) {
    const table = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(MIGRATIONS_TABLE);
    return table ? executed(db) : [];
  },
  record(db, name, atMs) {
    db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name, applied_at_ms) VALUES (?, ?)`).run(name, atMs);
  },
};
