import { MailqError } from "../errors.js";

/** The table where each store records the migrations it has run. */
export const MIGRATIONS_TABLE = "mailq_migrations";

/** One schema step. The name starts with its version ("0002_…"); the list is in version order. */
export interface Migration<Db> {
  name: string;
  up(db: Db): Promise<void> | void;
}

/** How one store reads and writes MIGRATIONS_TABLE. */
export interface MigrationLog<Db> {
  /** Creates the table when missing (a store from before migrations has none). */
  ensure(db: Db): Promise<void> | void;
  executed(db: Db): Promise<string[]> | string[];
  record(db: Db, name: string, atMs: number): Promise<void> | void;
}

export interface MigrateOptions<Db> {
  /** The store as a person knows it, e.g. "the SQLite store at /var/lib/mailq/mailq.sqlite". */
  store: string;
  db: Db;
  migrations: readonly Migration<Db>[];
  log: MigrationLog<Db>;
  nowMs?: () => number;
}

export function versionOf(name: string): number {
  const v = Number.parseInt(name, 10);
  if (!Number.isInteger(v))
    throw new Error(`migration ${JSON.stringify(name)} does not start with its version`);
  return v;
}

/** A store that a newer mailq-bot has migrated: this one cannot know what its schema means. */
export function schemaTooNew(
  store: string,
  unknown: readonly string[],
  known: readonly string[],
): MailqError {
  const newest = [...unknown].sort((a, b) => versionOf(b) - versionOf(a))[0] ?? "";
  const ours = known.at(-1) ?? "none";
  return new MailqError(
    "STORE_SCHEMA_TOO_NEW",
    `${store} is at schema version ${versionOf(newest)} (${newest}), newer than this mailq-bot knows ` +
      `(version ${versionOf(ours)}, ${ours}); nothing was changed`,
    {
      hint:
        "Run the mailq-bot release that migrated it (or a newer one), or point this one at a backup " +
        "of the store taken before that upgrade",
    },
  );
}

/**
 * Brings the store's schema up to date with umzug and returns the names it applied. The caller
 * holds the store's lock and transaction, so replicas starting together migrate once, and a
 * failed step leaves the schema as it was. A store from before migrations has the tables but no
 * MIGRATIONS_TABLE: the first migration is that schema written with IF NOT EXISTS, so it is
 * recorded there without touching a row.
 */
export async function migrate<Db extends object>(o: MigrateOptions<Db>): Promise<string[]> {
  const nowMs = o.nowMs ?? Date.now;
  await o.log.ensure(o.db);
  const known = o.migrations.map((m) => m.name);
  const executed = await o.log.executed(o.db);
  const unknown = executed.filter((n) => !known.includes(n));
  if (unknown.length) throw schemaTooNew(o.store, unknown, known);
  // Up to date, as on almost every start: umzug (≈0.1 s and 18 MB to load) is not needed.
  if (known.every((n) => executed.includes(n))) return [];
  const { Umzug } = await import("umzug");
  const umzug = new Umzug<Db>({
    migrations: o.migrations.map((m) => ({ name: m.name, up: async ({ context }) => m.up(context) })),
    context: o.db,
    storage: {
      executed: async ({ context }) => o.log.executed(context),
      logMigration: async ({ name, context }) => o.log.record(context, name, nowMs()),
      unlogMigration: async () => {
        throw new Error("mailq-bot migrations only go forward: restore a backup to go back");
      },
    },
    logger: undefined,
  });
  return (await umzug.up()).map((m) => m.name);
}
