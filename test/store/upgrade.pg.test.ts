import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { isMailqError } from "../../src/errors.js";
import { MIGRATIONS_TABLE } from "../../src/store/migrate.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { POSTGRES_MIGRATIONS, SCHEMA_LOCK_KEY } from "../../src/store/postgres/schema.js";
import { privateDatabase } from "../db/private-database.js";
import "../db/types.js";
import { beforeMigrationsSchema, expectOldRowsIntact, FUTURE_MIGRATION, OLD_ROWS } from "./upgrade.js";

const url = inject("postgresUrl");
const ALL = POSTGRES_MIGRATIONS.map((m) => m.name);

async function sql<T extends pg.QueryResultRow>(dbUrl: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const r = await c.query<T>(text);
    return Array.isArray(r) ? [] : r.rows;
  } finally {
    await c.end();
  }
}

/** Each test its own database: they change schemas. */
const freshDatabase = () => privateDatabase(url, "mailq_upgrade");

/** A database as the code before migrations created it, with a row in every table. */
async function oldStore(): Promise<string> {
  const dbUrl = await freshDatabase();
  await sql(dbUrl, beforeMigrationsSchema("postgres"));
  await sql(dbUrl, OLD_ROWS);
  return dbUrl;
}

async function migrations(dbUrl: string): Promise<string[]> {
  const t = await sql<{ t: string | null }>(dbUrl, `SELECT to_regclass('${MIGRATIONS_TABLE}')::text AS t`);
  if (!t[0]?.t) return [];
  return (await sql<{ name: string }>(dbUrl, `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name`)).map(
    (r) => r.name,
  );
}

/** Tables, columns and indexes, to show a refused open changed nothing. */
async function shape(dbUrl: string): Promise<string[]> {
  const cols = await sql<{ c: string }>(
    dbUrl,
    `SELECT table_name || '.' || column_name || ' ' || data_type AS c FROM information_schema.columns
     WHERE table_schema = 'public' ORDER BY c`,
  );
  const idx = await sql<{ c: string }>(
    dbUrl,
    "SELECT indexname AS c FROM pg_indexes WHERE schemaname = 'public' ORDER BY c",
  );
  return [...cols, ...idx].map((r) => r.c);
}

describe("PostgreSQL store migrations", () => {
  it("a database created before migrations is recognised and upgraded, every row intact", async () => {
    const dbUrl = await oldStore();
    expect(await migrations(dbUrl)).toEqual([]);
    const s = await openPostgresStore(dbUrl, { max: 2 });
    try {
      await expectOldRowsIntact(s);
    } finally {
      await s.close();
    }
    expect(await migrations(dbUrl)).toEqual(ALL);
    // The audit trail stays append-only after the upgrade.
    await expect(sql(dbUrl, "DELETE FROM audit")).rejects.toThrow(/append-only/);
    const again = await openPostgresStore(dbUrl, { max: 2 });
    await expectOldRowsIntact(again);
    await again.close();
    expect(await migrations(dbUrl)).toEqual(ALL);
  });

  it("replicas starting together on a new database: each opens, the migrations run once", async () => {
    const dbUrl = await freshDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(dbUrl, { max: 2 })));
    try {
      await stores[0]?.leases.acquire("x", "A", 1000, 0);
      expect(await stores[3]?.leases.get("x")).toMatchObject({ holder: "A" });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    expect(await migrations(dbUrl)).toEqual(ALL);
  });

  it("a replica waits on the schema lock while another migrates, then finds nothing to do", async () => {
    const dbUrl = await freshDatabase();
    const holder = new pg.Client({ connectionString: dbUrl });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_KEY]);
      const opening = openPostgresStore(dbUrl, { max: 1 });
      const waiting = async () =>
        Number(
          (
            await holder.query<{ n: string }>(
              `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            )
          ).rows[0]?.n,
        );
      const end = Date.now() + 20_000;
      while ((await waiting()) !== 1) {
        if (Date.now() > end) throw new Error("the opening store never waited on the schema lock");
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await migrations(dbUrl)).toEqual([]);
      await holder.query("COMMIT");
      await (await opening).close();
    } finally {
      await holder.end();
    }
    expect(await migrations(dbUrl)).toEqual(ALL);
  });

  it("refuses a database a newer mailq-bot migrated, naming the store, its version and what to do; changes nothing", async () => {
    const dbUrl = await oldStore();
    await sql(
      dbUrl,
      `CREATE TABLE ${MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at_ms BIGINT NOT NULL);
       INSERT INTO ${MIGRATIONS_TABLE} VALUES ${[...ALL, FUTURE_MIGRATION].map((m) => `('${m}', 0)`).join(", ")}`,
    );
    const before = await shape(dbUrl);
    const err = await openPostgresStore(dbUrl, { max: 1 }).catch((e: unknown) => e);
    expect(isMailqError(err) && err.code).toBe("STORE_SCHEMA_TOO_NEW");
    const text = isMailqError(err) ? err.describe() : "";
    const shown = dbUrl.replace(/:[^:@/]*@/, ":***@");
    expect(text).toContain(`the PostgreSQL store at ${shown} is at schema version 99 (${FUTURE_MIGRATION})`);
    expect(text).toContain(`version ${ALL.length}, ${ALL.at(-1)}`);
    expect(text).toMatch(/Run the mailq-bot release that migrated it .* or point this one at a backup/);
    expect(text).not.toContain(new URL(url).password);
    expect(await shape(dbUrl)).toEqual(before);
    expect(await migrations(dbUrl)).toEqual([...ALL, FUTURE_MIGRATION]);
  });
});
