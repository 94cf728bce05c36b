import { randomBytes } from "node:crypto";
import pg from "pg";

async function admin(baseUrl: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: baseUrl.replace(/\/[^/]+$/, "/postgres") });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * A database of its own on the test server, for a test whose rows another file's scheduler
 * must not see (a replica schedules every active watch it finds) or that changes the schema.
 */
export async function newDatabase(
  baseUrl: string,
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  await admin(baseUrl, `CREATE DATABASE ${name}`);
  return {
    url: baseUrl.replace(/\/[^/]+$/, `/${name}`),
    drop: () => admin(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
