import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { isMailqError } from "../../src/errors.js";
import { MIGRATIONS_TABLE } from "../../src/store/migrate.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { POSTGRES_MIGRATIONS } from "../../src/store/postgres/schema.js";
import "../db/types.js";
import { beforeMigrationsSchema, expectOldRowsIntact, FUTURE_MIGRATION, OLD_ROWS } from "./upgrade.js";

const url = inject("postgresUrl");
const ALL = POSTGRES_MIGRATIONS.map((m) => m.name);
const created: string[] = [];

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

/** A database of its own on the test server (this test changes schemas). */
async function newDatabase(): Promise<string> {
  const name = `mailq_upgrade_${randomUUID().slice(0, 8)}`;
  await sql(url.replace(/\/mailq_test$/, "/postgres"), `CREATE DATABASE ${name}`);
  created.push(name);
  return url.replace(/\/mailq_test$/, `/${name}`);
}
afterAll(async () => {
  for (const name of created)
    await sql(url.replace(/\/mailq_test$/, "/postgres"), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

/** A database as the code before migrations created it, with a row in every table. */
async function oldStore(): Promise<string> {
  const dbUrl = await newDatabase();
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
    const dbUrl = await newDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(dbUrl, { max: 2 })));
    try {
      await stores[0]?.leases.acquire("x", "A", 1000, 0);
      expect(await stores[3]?.leases.get("x")).toMatchObject({ holder: "A" });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
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
