import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { localConfig } from "../../src/config.js";
import { storeCheck } from "../../src/doctor/local.js";
import { isMailqError } from "../../src/errors.js";
import { MIGRATIONS_TABLE } from "../../src/store/migrate.js";
import { openStore } from "../../src/store/open.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { SQLITE_MIGRATIONS } from "../../src/store/sqlite/schema.js";
import { beforeMigrationsSchema, expectOldRowsIntact, FUTURE_MIGRATION, OLD_ROWS } from "./upgrade.js";

const dir = mkdtempSync(join(tmpdir(), "mailq-upgrade-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A file as the code before migrations created it, with a row in every table. */
function oldStore(schema = beforeMigrationsSchema("sqlite")): string {
  const path = join(dir, `old-${++n}.sqlite`);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(schema);
  db.exec(OLD_ROWS);
  db.close();
  return path;
}

function inspect(path: string): { migrations: string[]; objects: string[] } {
  const db = new Database(path, { readonly: true });
  try {
    const objects = (
      db.prepare("SELECT type || ' ' || name AS o FROM sqlite_master ORDER BY o").all() as { o: string }[]
    ).map((r) => r.o);
    const migrations = objects.includes(`table ${MIGRATIONS_TABLE}`)
      ? (db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name`).all() as { name: string }[]).map(
          (r) => r.name,
        )
      : [];
    return { migrations, objects };
  } finally {
    db.close();
  }
}

const ALL = SQLITE_MIGRATIONS.map((m) => m.name);

describe("SQLite store migrations", () => {
  it("a store created before migrations is recognised and upgraded, every row intact", async () => {
    const path = oldStore();
    expect(inspect(path).migrations).toEqual([]);
    const s = openSqliteStore(path);
    await s.migrated;
    await expectOldRowsIntact(s);
    await s.close();
    const after = inspect(path);
    expect(after.migrations).toEqual(ALL);
    expect(after.objects).toContain("index approvals_status");
    // Opening again changes nothing.
    const again = openSqliteStore(path);
    await again.migrated;
    await expectOldRowsIntact(again);
    await again.close();
    expect(inspect(path)).toEqual(after);
  });

  it("a store from before approval batches gets the column, its rows intact", async () => {
    const schema = beforeMigrationsSchema("sqlite").replace("  batch_json TEXT,\n", "");
    expect(schema).not.toContain("batch_json");
    const path = oldStore(schema);
    const db = new Database(path);
    expect(
      (db.prepare("PRAGMA table_info(approvals)").all() as { name: string }[]).map((c) => c.name),
    ).not.toContain("batch_json");
    db.close();
    const s = openSqliteStore(path);
    await expectOldRowsIntact(s);
    await s.close();
    expect(inspect(path).migrations).toEqual(ALL);
    const after = new Database(path, { readonly: true });
    expect(
      (after.prepare("PRAGMA table_info(approvals)").all() as { name: string }[]).map((c) => c.name),
    ).toContain("batch_json");
    after.close();
  });

  it("a new file gets every migration; two connections opening it at once both work", async () => {
    const path = join(dir, "fresh.sqlite");
    const [a, b] = [openSqliteStore(path), openSqliteStore(path)];
    await Promise.all([a.migrated, b.migrated]);
    await a.leases.acquire("x", "A", 1000, 0);
    expect(await b.leases.get("x")).toMatchObject({ holder: "A" });
    await Promise.all([a.close(), b.close()]);
    expect(inspect(path).migrations).toEqual(ALL);
  });

  it("refuses a store a newer mailq-bot migrated, naming the store, its version and what to do; changes nothing", async () => {
    const path = oldStore();
    const db = new Database(path);
    db.exec(`CREATE TABLE ${MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at_ms INTEGER NOT NULL)`);
    const insert = db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} VALUES (?, 0)`);
    for (const name of [...ALL, FUTURE_MIGRATION]) insert.run(name);
    db.close();
    const before = inspect(path);

    const s = openSqliteStore(path);
    const err = await s.migrated.catch((e: unknown) => e);
    expect(isMailqError(err) && err.code).toBe("STORE_SCHEMA_TOO_NEW");
    const text = isMailqError(err) ? err.describe() : "";
    expect(text).toContain(`the SQLite store at ${path} is at schema version 99 (${FUTURE_MIGRATION})`);
    expect(text).toContain(`version ${ALL.length}, ${ALL.at(-1)}`);
    expect(text).toMatch(/Run the mailq-bot release that migrated it .* or point this one at a backup/);
    // Every call fails the same way rather than reading a schema it does not know.
    await expect(s.approvals.pending()).rejects.toThrow(/schema version 99/);
    await s.close();
    expect(inspect(path)).toEqual(before);

    // serve opens the store through openStore: it stops there, before Slack.
    const config = { ...localConfig("/nonexistent"), store: { path } };
    await expect(openStore(config, {})).rejects.toThrow(/newer than this mailq-bot knows/);
  });
});

describe("doctor on a store a newer mailq-bot migrated", () => {
  it("fails the store line with the version and the way out", async () => {
    const path = oldStore();
    const db = new Database(path);
    db.exec(`CREATE TABLE ${MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at_ms INTEGER NOT NULL)`);
    db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} VALUES (?, 0)`).run(FUTURE_MIGRATION);
    db.close();
    const check = await storeCheck({ ...localConfig("/nonexistent"), store: { path } }, {});
    expect(check).toMatchObject({ area: "store", status: "fail" });
    expect(check.detail).toContain("schema version 99");
    expect(check.fix).toMatch(/^Run the mailq-bot release that migrated it/);
  });
});
