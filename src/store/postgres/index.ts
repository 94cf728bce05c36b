import pg from "pg";
import type { RelaySnapshot } from "../../analysis/snapshot.js";
import { isMailqError } from "../../errors.js";
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
import { POSTGRES_MIGRATION_LOG, POSTGRES_MIGRATIONS, SCHEMA_LOCK_KEY } from "./schema.js";

/** Every compare-and-set is one conditional statement: PostgreSQL re-checks its WHERE on the row it locks. */
interface Db {
  query(sql: string, args?: unknown[]): Promise<pg.QueryResult<Row>>;
}

const INT8_OID = 20;
/** BIGINT (ids, millisecond times) as numbers: every value here is far below 2^53. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID && format !== "binary") return (v: string) => Number(v);
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

class Snapshots implements SnapshotRepo {
  constructor(private readonly db: Db) {}
  async save(s: RelaySnapshot, takenAtMs: number): Promise<StoredSnapshot> {
    const r = await this.db.query(
      "INSERT INTO snapshots (relay, taken_at_ms, messages, json) VALUES ($1, $2, $3, $4) RETURNING id",
      [s.relay, takenAtMs, s.messages, JSON.stringify(s)],
    );
    return { id: r.rows[0]?.id as number, relay: s.relay, takenAtMs, snapshot: s };
  }
  async latest(relay: string, limit: number): Promise<StoredSnapshot[]> {
    const r = await this.db.query(
      "SELECT * FROM snapshots WHERE relay = $1 ORDER BY taken_at_ms DESC, id DESC LIMIT $2",
      [relay, limit],
    );
    return r.rows.map(toSnapshot);
  }
  async since(relay: string, sinceMs: number): Promise<StoredSnapshot[]> {
    const r = await this.db.query(
      "SELECT * FROM snapshots WHERE relay = $1 AND taken_at_ms >= $2 ORDER BY taken_at_ms, id",
      [relay, sinceMs],
    );
    return r.rows.map(toSnapshot);
  }
}

class Watches implements WatchRepo {
  constructor(private readonly db: Db) {}
  async create(w: Parameters<WatchRepo["create"]>[0]): Promise<Watch> {
    const r = await this.db.query(
      `INSERT INTO watches (id, relay, channel_id, message_ts, created_by, interval_ms, started_at_ms, next_due_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [w.id, w.relay, w.channelId, w.messageTs, w.createdBy, w.intervalMs, w.startedAtMs, w.nextDueMs],
    );
    return toWatch(r.rows[0] as Row);
  }
  async get(id: string): Promise<Watch | undefined> {
    const r = await this.db.query("SELECT * FROM watches WHERE id = $1", [id]);
    return r.rows[0] ? toWatch(r.rows[0]) : undefined;
  }
  async active(): Promise<Watch[]> {
    const r = await this.db.query("SELECT * FROM watches WHERE status = 'active' ORDER BY next_due_ms");
    return r.rows.map(toWatch);
  }
  async update(
    id: string,
    expectedVersion: number,
    patch: Partial<Omit<Watch, "id" | "version">>,
  ): Promise<boolean> {
    const args: unknown[] = [id, expectedVersion];
    const sets = ["version = version + 1"];
    for (const [k, v] of Object.entries(patch)) {
      const column = WATCH_COLUMNS[k as keyof typeof WATCH_COLUMNS];
      if (column === undefined || v === undefined) continue;
      args.push(v);
      sets.push(`${column} = $${args.length}`);
    }
    const r = await this.db.query(
      `UPDATE watches SET ${sets.join(", ")} WHERE id = $1 AND version = $2`,
      args,
    );
    return r.rowCount === 1;
  }
  async claimUpdate(
    watchId: string,
    seq: number,
    dueMs: number,
    claimedAtMs: number,
    staleAfterMs = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO watch_updates (watch_id, seq, due_ms, claimed_at_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (watch_id, seq) DO NOTHING`,
      [watchId, seq, dueMs, claimedAtMs],
    );
    if (r.rowCount === 1) return true;
    if (!Number.isFinite(staleAfterMs)) return false;
    // The row lock makes PostgreSQL re-check the WHERE: one taker wins.
    const t = await this.db.query(
      `UPDATE watch_updates SET claimed_at_ms = $1
       WHERE watch_id = $2 AND seq = $3 AND posted = 0 AND claimed_at_ms <= $4`,
      [claimedAtMs, watchId, seq, claimedAtMs - staleAfterMs],
    );
    return t.rowCount === 1;
  }
  async recordPosted(watchId: string, seq: number, messageTs: string | null): Promise<void> {
    await this.db.query(
      "UPDATE watch_updates SET posted = 1, message_ts = $1 WHERE watch_id = $2 AND seq = $3",
      [messageTs, watchId, seq],
    );
  }
  async updateLog(watchId: string): Promise<WatchUpdate[]> {
    const r = await this.db.query("SELECT * FROM watch_updates WHERE watch_id = $1 ORDER BY seq", [watchId]);
    return r.rows.map(toWatchUpdate);
  }
}

class Approvals implements ApprovalRepo {
  constructor(private readonly db: Db) {}
  async create(r: Parameters<ApprovalRepo["create"]>[0]): Promise<ApprovalRequest> {
    const q = await this.db.query(
      `INSERT INTO approvals (id, relay, action, selector, ticket, reason, requester, channel_id, message_ts,
         created_at_ms, expires_at_ms, status, frozen_json, command, batch_json)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $14) RETURNING *`,
      [
        r.id,
        r.relay,
        r.action,
        r.selector,
        r.ticket,
        r.reason,
        r.requester,
        r.channelId,
        r.messageTs,
        r.createdAtMs,
        r.expiresAtMs,
        JSON.stringify(r.frozen),
        r.command,
        r.batch ? JSON.stringify(r.batch) : null,
      ],
    );
    return toApproval(q.rows[0] as Row);
  }
  async get(id: string): Promise<ApprovalRequest | undefined> {
    const r = await this.db.query("SELECT * FROM approvals WHERE id = $1", [id]);
    return r.rows[0] ? toApproval(r.rows[0]) : undefined;
  }
  async transition(
    id: string,
    from: ApprovalStatus,
    expectedVersion: number,
    patch: Partial<Pick<ApprovalRequest, "status" | "approvers" | "result" | "messageTs">>,
  ): Promise<boolean> {
    const args: unknown[] = [id, from, expectedVersion];
    const sets = ["version = version + 1"];
    const set = (column: string, value: unknown) => {
      args.push(value);
      sets.push(`${column} = $${args.length}`);
    };
    if (patch.status !== undefined) set("status", patch.status);
    if (patch.approvers !== undefined) set("approvers_json", JSON.stringify(patch.approvers));
    if (patch.result !== undefined) set("result_json", JSON.stringify(patch.result));
    if (patch.messageTs !== undefined) set("message_ts", patch.messageTs);
    const r = await this.db.query(
      `UPDATE approvals SET ${sets.join(", ")} WHERE id = $1 AND status = $2 AND version = $3`,
      args,
    );
    return r.rowCount === 1;
  }
  async pending(): Promise<ApprovalRequest[]> {
    const r = await this.db.query("SELECT * FROM approvals WHERE status = 'pending' ORDER BY created_at_ms");
    return r.rows.map(toApproval);
  }

  async executing(): Promise<ApprovalRequest[]> {
    const r = await this.db.query(
      "SELECT * FROM approvals WHERE status = 'executing' ORDER BY created_at_ms",
    );
    return r.rows.map(toApproval);
  }
}

class Audit implements AuditRepo {
  constructor(private readonly db: Db) {}
  async append(e: Omit<AuditEntry, "id">): Promise<AuditEntry> {
    const r = await this.db.query(
      `INSERT INTO audit (at_ms, kind, actor, relay, ticket, request_id, detail_json)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [e.atMs, e.kind, e.actor, e.relay, e.ticket, e.requestId, JSON.stringify(e.detail)],
    );
    return { ...e, id: r.rows[0]?.id as number };
  }
  async list(filter: { ticket?: string; relay?: string; limit: number }): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [column, value] of [
      ["ticket", filter.ticket],
      ["relay", filter.relay],
    ] as const) {
      if (value === undefined) continue;
      args.push(value);
      where.push(`${column} = $${args.length}`);
    }
    args.push(filter.limit);
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT $${args.length}`;
    return (await this.db.query(sql, args)).rows.map(toAudit);
  }
  /** Keyset pages: a long export holds no connection between pages. */
  async *all(): AsyncIterable<AuditEntry> {
    let after = 0;
    for (;;) {
      const r = await this.db.query("SELECT * FROM audit WHERE id > $1 ORDER BY id LIMIT 500", [after]);
      for (const row of r.rows) yield toAudit(row);
      const last = r.rows.at(-1);
      if (!last || r.rows.length < 500) return;
      after = last.id as number;
    }
  }
}

class Leases implements LeaseRepo {
  constructor(private readonly db: Db) {}
  async acquire(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    // One statement: concurrent callers serialize on the row, and the WHERE is re-checked on
    // the version the winner left behind.
    const r = await this.db.query(
      `INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
       WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= $4`,
      [name, holder, nowMs + ttlMs, nowMs],
    );
    return r.rowCount === 1;
  }
  async renew(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    const r = await this.db.query(
      "UPDATE leases SET expires_at_ms = $1 WHERE name = $2 AND holder = $3 AND expires_at_ms > $4",
      [nowMs + ttlMs, name, holder, nowMs],
    );
    return r.rowCount === 1;
  }
  async release(name: string, holder: string): Promise<void> {
    await this.db.query("DELETE FROM leases WHERE name = $1 AND holder = $2", [name, holder]);
  }
  async get(name: string): Promise<Lease | undefined> {
    const r = (await this.db.query("SELECT * FROM leases WHERE name = $1", [name])).rows[0];
    return r
      ? { name: r.name as string, holder: r.holder as string, expiresAtMs: r.expires_at_ms as number }
      : undefined;
  }
}

class Archive implements ArchiveRepo {
  constructor(private readonly db: Db) {}
  async record(m: Omit<ArchivedMessage, "restore" | "prunedAtMs">): Promise<void> {
    const cols = ARCHIVE_INSERT_COLUMNS.join(", ");
    await this.db.query(
      `INSERT INTO archive (${cols}) VALUES (${ARCHIVE_INSERT_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})
       ON CONFLICT (id) DO UPDATE SET request_id = excluded.request_id, bytes = excluded.bytes,
         sha256 = excluded.sha256, archived_at_ms = excluded.archived_at_ms,
         deleted_by = excluded.deleted_by, approved_by_json = excluded.approved_by_json, pruned_at_ms = NULL`,
      archiveValues(m),
    );
  }
  async get(id: string): Promise<ArchivedMessage | undefined> {
    const r = (await this.db.query("SELECT * FROM archive WHERE id = $1", [id])).rows[0];
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
      args.push(filter.relay);
      where.push(`relay = $${args.length}`);
    }
    if (filter.ticket !== undefined) {
      args.push(filter.ticket);
      where.push(`ticket = $${args.length}`);
    }
    if (!filter.includePruned) where.push("pruned_at_ms IS NULL");
    const sql = `SELECT * FROM archive ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY archived_at_ms, id`;
    return (await this.db.query(sql, args)).rows.map(toArchived);
  }
  async claimRestore(id: string, requestId: string, nowMs: number): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE archive SET restore_request_id = $1, restore_claimed_at_ms = $2
       WHERE id = $3 AND restore_request_id IS NULL AND pruned_at_ms IS NULL`,
      [requestId, nowMs, id],
    );
    return r.rowCount === 1;
  }
  async markRestored(id: string, requestId: string, atMs: number, newQueueId: string | null): Promise<void> {
    await this.db.query(
      `UPDATE archive SET restored_at_ms = COALESCE(restored_at_ms, $1), restored_queue_id = COALESCE($2, restored_queue_id)
       WHERE id = $3 AND restore_request_id = $4`,
      [atMs, newQueueId, id, requestId],
    );
  }
  async releaseRestore(id: string, requestId: string): Promise<void> {
    await this.db.query(
      `UPDATE archive SET restore_request_id = NULL, restore_claimed_at_ms = NULL
       WHERE id = $1 AND restore_request_id = $2 AND restored_at_ms IS NULL`,
      [id, requestId],
    );
  }
  async markPruned(id: string, nowMs: number): Promise<boolean> {
    const r = await this.db.query(
      "UPDATE archive SET pruned_at_ms = $1 WHERE id = $2 AND pruned_at_ms IS NULL",
      [nowMs, id],
    );
    return r.rowCount === 1;
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/** One transaction under the advisory lock: a replica that waited finds nothing left to do. */
async function migrateSchema(pool: pg.Pool, url: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_KEY]);
    await migrate({
      store: `the PostgreSQL store at ${redactUrl(url)}`,
      db: client,
      migrations: POSTGRES_MIGRATIONS,
      log: POSTGRES_MIGRATION_LOG,
    });
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

export interface PostgresStoreOptions {
  /** Connections in this process's pool. */
  max?: number;
  /** Give up connecting after this long. */
  connectTimeoutMs?: number;
}

/** Connects to PostgreSQL at `url` (postgres://…), creating or migrating the schema if needed. */
export async function openPostgresStore(url: string, o: PostgresStoreOptions = {}): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: o.max ?? 10,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
    types,
    application_name: "mailq-bot",
  });
  // An idle connection the server drops (restart, failover) must not crash the process;
  // the pool replaces it on the next query.
  pool.on("error", () => {});
  try {
    await migrateSchema(pool, url);
  } catch (e) {
    await pool.end().catch(() => {});
    if (isMailqError(e)) throw e;
    throw new Error(
      `Cannot open the PostgreSQL store at ${redactUrl(url)}: ${(e as Error).message}. ` +
        "Check MAILQ_DATABASE_URL (host, port, database, user, password) and that the server accepts connections",
      { cause: e },
    );
  }
  const db: Db = { query: (sql, args) => pool.query<Row>(sql, args) };
  return {
    kind: "postgres",
    snapshots: new Snapshots(db),
    watches: new Watches(db),
    approvals: new Approvals(db),
    audit: new Audit(db),
    leases: new Leases(db),
    archive: new Archive(db),
    async close() {
      await pool.end();
    },
  };
}
