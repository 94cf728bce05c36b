import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { RelaySnapshot } from "../../analysis/snapshot.js";
import { migrate } from "../migrate.js";
import {
  ARCHIVE_INSERT_COLUMNS,
  archiveValues,
  type Row,
  toApproval,
  toArchived,
  toAudit,
  toSnapshot,
  toWatch,
  toWatchUpdate,
  WATCH_COLUMNS,
} from "../rows.js";
import type {
  ApprovalRepo,
  ApprovalRequest,
  ApprovalStatus,
  ArchivedMessage,
  ArchiveRepo,
  AuditEntry,
  AuditRepo,
  Lease,
  LeaseRepo,
  SnapshotRepo,
  Store,
  StoredSnapshot,
  Watch,
  WatchRepo,
  WatchUpdate,
} from "../store.js";
import { SQLITE_MIGRATION_LOG, SQLITE_MIGRATIONS } from "./schema.js";

type Db = Database.Database;

class Snapshots implements SnapshotRepo {
  constructor(private readonly db: Db) {}
  async save(s: RelaySnapshot, takenAtMs: number): Promise<StoredSnapshot> {
    const r = this.db
      .prepare("INSERT INTO snapshots (relay, taken_at_ms, messages, json) VALUES (?, ?, ?, ?)")
      .run(s.relay, takenAtMs, s.messages, JSON.stringify(s));
    return { id: Number(r.lastInsertRowid), relay: s.relay, takenAtMs, snapshot: s };
  }
  private rows(sql: string, ...args: unknown[]): StoredSnapshot[] {
    return (this.db.prepare(sql).all(...args) as Row[]).map(toSnapshot);
  }
  async latest(relay: string, limit: number): Promise<StoredSnapshot[]> {
    return this.rows(
      "SELECT * FROM snapshots WHERE relay = ? ORDER BY taken_at_ms DESC, id DESC LIMIT ?",
      relay,
      limit,
    );
  }
  async since(relay: string, sinceMs: number): Promise<StoredSnapshot[]> {
    return this.rows(
      "SELECT * FROM snapshots WHERE relay = ? AND taken_at_ms >= ? ORDER BY taken_at_ms, id",
      relay,
      sinceMs,
    );
  }
}

class Watches implements WatchRepo {
  constructor(private readonly db: Db) {}
  async create(w: Parameters<WatchRepo["create"]>[0]): Promise<Watch> {
    this.db
      .prepare(
        `INSERT INTO watches (id, relay, channel_id, message_ts, created_by, interval_ms, started_at_ms, next_due_ms)
         VALUES (@id, @relay, @channelId, @messageTs, @createdBy, @intervalMs, @startedAtMs, @nextDueMs)`,
      )
      .run(w);
    return (await this.get(w.id)) as Watch;
  }
  async get(id: string): Promise<Watch | undefined> {
    const r = this.db.prepare("SELECT * FROM watches WHERE id = ?").get(id) as Row | undefined;
    return r ? toWatch(r) : undefined;
  }
  async active(): Promise<Watch[]> {
    return (
      this.db.prepare("SELECT * FROM watches WHERE status = 'active' ORDER BY next_due_ms").all() as Row[]
    ).map(toWatch);
  }
  async update(
    id: string,
    expectedVersion: number,
    patch: Partial<Omit<Watch, "id" | "version">>,
  ): Promise<boolean> {
    const keys = Object.keys(patch) as (keyof typeof WATCH_COLUMNS)[];
    const sets = keys.map((k) => `${WATCH_COLUMNS[k]} = @${k}`);
    const r = this.db
      .prepare(
        `UPDATE watches SET ${[...sets, "version = version + 1"].join(", ")} WHERE id = @id AND version = @expectedVersion`,
      )
      .run({ ...patch, id, expectedVersion });
    return r.changes === 1;
  }
  async claimUpdate(
    watchId: string,
    seq: number,
    dueMs: number,
    claimedAtMs: number,
    staleAfterMs = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    const r = this.db
      .prepare(
        "INSERT OR IGNORE INTO watch_updates (watch_id, seq, due_ms, claimed_at_ms) VALUES (?, ?, ?, ?)",
      )
      .run(watchId, seq, dueMs, claimedAtMs);
    if (r.changes === 1) return true;
    if (!Number.isFinite(staleAfterMs)) return false;
    const t = this.db
      .prepare(
        "UPDATE watch_updates SET claimed_at_ms = ? WHERE watch_id = ? AND seq = ? AND posted = 0 AND claimed_at_ms <= ?",
      )
      .run(claimedAtMs, watchId, seq, claimedAtMs - staleAfterMs);
    return t.changes === 1;
  }
  async recordPosted(watchId: string, seq: number, messageTs: string | null): Promise<void> {
    this.db
      .prepare("UPDATE watch_updates SET posted = 1, message_ts = ? WHERE watch_id = ? AND seq = ?")
      .run(messageTs, watchId, seq);
  }
  async updateLog(watchId: string): Promise<WatchUpdate[]> {
    return (
      this.db.prepare("SELECT * FROM watch_updates WHERE watch_id = ? ORDER BY seq").all(watchId) as Row[]
    ).map(toWatchUpdate);
  }
}

class Approvals implements ApprovalRepo {
  constructor(private readonly db: Db) {}
  async create(r: Parameters<ApprovalRepo["create"]>[0]): Promise<ApprovalRequest> {
    this.db
      .prepare(
        `INSERT INTO approvals (id, relay, action, selector, ticket, reason, requester, channel_id, message_ts,
           created_at_ms, expires_at_ms, status, frozen_json, command, batch_json)
         VALUES (@id, @relay, @action, @selector, @ticket, @reason, @requester, @channelId, @messageTs,
           @createdAtMs, @expiresAtMs, 'pending', @frozen, @command, @batch)`,
      )
      .run({ ...r, frozen: JSON.stringify(r.frozen), batch: r.batch ? JSON.stringify(r.batch) : null });
    return (await this.get(r.id)) as ApprovalRequest;
  }
  async get(id: string): Promise<ApprovalRequest | undefined> {
    const r = this.db.prepare("SELECT * FROM approvals WHERE id = ?").get(id) as Row | undefined;
    return r ? toApproval(r) : undefined;
  }
  async transition(
    id: string,
    from: ApprovalStatus,
    expectedVersion: number,
    patch: Partial<Pick<ApprovalRequest, "status" | "approvers" | "result" | "messageTs">>,
  ): Promise<boolean> {
    const sets = ["version = version + 1"];
    const args: Record<string, unknown> = { id, from, expectedVersion };
    const set = (column: string, name: string, value: unknown) => {
      sets.push(`${column} = @${name}`);
      args[name] = value;
    };
    if (patch.status !== undefined) set("status", "status", patch.status);
    if (patch.approvers !== undefined) set("approvers_json", "approvers", JSON.stringify(patch.approvers));
    if (patch.result !== undefined) set("result_json", "result", JSON.stringify(patch.result));
    if (patch.messageTs !== undefined) set("message_ts", "messageTs", patch.messageTs);
    const r = this.db
      .prepare(
        `UPDATE approvals SET ${sets.join(", ")} WHERE id = @id AND status = @from AND version = @expectedVersion`,
      )
      .run(args);
    return r.changes === 1;
  }
  async pending(): Promise<ApprovalRequest[]> {
    return (
      this.db
        .prepare("SELECT * FROM approvals WHERE status = 'pending' ORDER BY created_at_ms")
        .all() as Row[]
    ).map(toApproval);
  }

  async executing(): Promise<ApprovalRequest[]> {
    return (
      this.db
        .prepare("SELECT * FROM approvals WHERE status = 'executing' ORDER BY created_at_ms")
        .all() as Row[]
    ).map(toApproval);
  }
}

class Audit implements AuditRepo {
  constructor(private readonly db: Db) {}
  async append(e: Omit<AuditEntry, "id">): Promise<AuditEntry> {
    const r = this.db
      .prepare(
        "INSERT INTO audit (at_ms, kind, actor, relay, ticket, request_id, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(e.atMs, e.kind, e.actor, e.relay, e.ticket, e.requestId, JSON.stringify(e.detail));
    return { ...e, id: Number(r.lastInsertRowid) };
  }
  async list(filter: { ticket?: string; relay?: string; limit: number }): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [column, value] of [
      ["ticket", filter.ticket],
      ["relay", filter.relay],
    ] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      args.push(value);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit) as Row[]).map(toAudit);
  }
  async *all(): AsyncIterable<AuditEntry> {
    for (const r of this.db.prepare("SELECT * FROM audit ORDER BY id").iterate() as Iterable<Row>)
      yield toAudit(r);
  }
}

class Leases implements LeaseRepo {
  constructor(private readonly db: Db) {}
  async acquire(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    // One statement: insert, or take over only when the lease is ours or has expired.
    const r = this.db
      .prepare(
        `INSERT INTO leases (name, holder, expires_at_ms) VALUES (@name, @holder, @until)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
         WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= @nowMs`,
      )
      .run({ name, holder, until: nowMs + ttlMs, nowMs });
    return r.changes === 1;
  }
  async renew(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    const r = this.db
      .prepare("UPDATE leases SET expires_at_ms = ? WHERE name = ? AND holder = ? AND expires_at_ms > ?")
      .run(nowMs + ttlMs, name, holder, nowMs);
    return r.changes === 1;
  }
  async release(name: string, holder: string): Promise<void> {
    this.db.prepare("DELETE FROM leases WHERE name = ? AND holder = ?").run(name, holder);
  }
  async get(name: string): Promise<Lease | undefined> {
    const r = this.db.prepare("SELECT * FROM leases WHERE name = ?").get(name) as Row | undefined;
    return r
      ? { name: r.name as string, holder: r.holder as string, expiresAtMs: r.expires_at_ms as number }
      : undefined;
  }
}

class Archive implements ArchiveRepo {
  constructor(private readonly db: Db) {}
  async record(m: Omit<ArchivedMessage, "restore" | "prunedAtMs">): Promise<void> {
    const cols = ARCHIVE_INSERT_COLUMNS.join(", ");
    // The same file archived again (a delete that failed after archiving, asked again): the new copy counts.
    this.db
      .prepare(
        `INSERT INTO archive (${cols}) VALUES (${ARCHIVE_INSERT_COLUMNS.map(() => "?").join(", ")})
         ON CONFLICT (id) DO UPDATE SET request_id = excluded.request_id, bytes = excluded.bytes,
           sha256 = excluded.sha256, archived_at_ms = excluded.archived_at_ms,
           deleted_by = excluded.deleted_by, approved_by_json = excluded.approved_by_json, pruned_at_ms = NULL`,
      )
      .run(...archiveValues(m));
  }
  async get(id: string): Promise<ArchivedMessage | undefined> {
    const r = this.db.prepare("SELECT * FROM archive WHERE id = ?").get(id) as Row | undefined;
    return r ? toArchived(r) : undefined;
  }
  async list(filter: {
    relay?: string;
    ticket?: string;
    includePruned?: boolean;
  }): Promise<ArchivedMessage[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.relay !== undefined) {
      where.push("relay = ?");
      args.push(filter.relay);
    }
    if (filter.ticket !== undefined) {
      where.push("ticket = ?");
      args.push(filter.ticket);
    }
    if (!filter.includePruned) where.push("pruned_at_ms IS NULL");
    const sql = `SELECT * FROM archive ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY archived_at_ms, id`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toArchived);
  }
  async claimRestore(id: string, requestId: string, nowMs: number): Promise<boolean> {
    const r = this.db
      .prepare(
        `UPDATE archive SET restore_request_id = ?, restore_claimed_at_ms = ?
         WHERE id = ? AND restore_request_id IS NULL AND pruned_at_ms IS NULL`,
      )
      .run(requestId, nowMs, id);
    return r.changes === 1;
  }
  async markRestored(id: string, requestId: string, atMs: number, newQueueId: string | null): Promise<void> {
    this.db
      .prepare(
        `UPDATE archive SET restored_at_ms = COALESCE(restored_at_ms, ?), restored_queue_id = COALESCE(?, restored_queue_id)
         WHERE id = ? AND restore_request_id = ?`,
      )
      .run(atMs, newQueueId, id, requestId);
  }
  async releaseRestore(id: string, requestId: string): Promise<void> {
    this.db
      .prepare(
        `UPDATE archive SET restore_request_id = NULL, restore_claimed_at_ms = NULL
         WHERE id = ? AND restore_request_id = ? AND restored_at_ms IS NULL`,
      )
      .run(id, requestId);
  }
  async markPruned(id: string, nowMs: number): Promise<boolean> {
    return (
      this.db
        .prepare("UPDATE archive SET pruned_at_ms = ? WHERE id = ? AND pruned_at_ms IS NULL")
        .run(nowMs, id).changes === 1
    );
  }
}

/**
 * Every call waits for `ready` (the migrations) and fails with its error; once it has
 * succeeded, calls go straight through.
 */
function afterMigrations<T extends object>(repo: T, ready: Promise<void>): T {
  let migrated = false;
  ready.then(
    () => {
      migrated = true;
    },
    () => {},
  );
  return new Proxy(repo, {
    get(target, key) {
      const v: unknown = Reflect.get(target, key);
      if (typeof v !== "function" || migrated) return typeof v === "function" ? v.bind(target) : v;
      return async (...args: unknown[]) => {
        await ready;
        return v.apply(target, args);
      };
    },
  });
}

/** Migrations of this process's stores run one at a time: see migrateSqlite. */
let migrating: Promise<unknown> = Promise.resolve();

/**
 * A store already current (the usual open) takes no lock. Otherwise the migrations run in one
 * IMMEDIATE transaction, so processes opening one file take turns; within this process they wait
 * for one another, since a connection blocked on the lock would block the thread that holds it.
 */
function migrateSqlite(db: Database.Database, path: string): Promise<void> {
  const done = SQLITE_MIGRATION_LOG.executedIfAny(db);
  if (done.length === SQLITE_MIGRATIONS.length && SQLITE_MIGRATIONS.every((m) => done.includes(m.name)))
    return Promise.resolve();
  const run = async () => {
    db.exec("BEGIN IMMEDIATE");
    try {
      await migrate({
        store: `the SQLite store at ${path}`,
        db,
        migrations: SQLITE_MIGRATIONS,
        log: SQLITE_MIGRATION_LOG,
      });
      db.exec("COMMIT");
    } catch (e) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw e;
    }
  };
  const p = migrating.then(run, run);
  migrating = p.catch(() => {});
  return p;
}

export interface SqliteStore extends Store {
  /** Settles when the schema is current: rejects when it cannot be (e.g. a newer mailq-bot's store). */
  migrated: Promise<void>;
}

/**
 * Opens (creating if needed) the SQLite store at `path`; ":memory:" for tests. The store is
 * returned at once and its calls wait for the migrations (await `migrated` to learn of a
 * failure up front).
 */
export function openSqliteStore(path: string): SqliteStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  const migrated = migrateSqlite(db, path);
  // Reported by `migrated` and by every call; not an unhandled rejection meanwhile.
  migrated.catch(() => {});
  return {
    kind: "sqlite",
    migrated,
    snapshots: afterMigrations(new Snapshots(db), migrated),
    watches: afterMigrations(new Watches(db), migrated),
    approvals: afterMigrations(new Approvals(db), migrated),
    audit: afterMigrations(new Audit(db), migrated),
    leases: afterMigrations(new Leases(db), migrated),
    archive: afterMigrations(new Archive(db), migrated),
    async close() {
      await migrated.catch(() => {});
      db.close();
    },
  };
}
