import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A database of its own on the test server, for a test whose code acts on everything it finds
 * (a scheduler ticks every active watch): the run's shared database holds other tests' state.
 */
export async function privateDatabase(sharedUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: sharedUrl.replace(/\/[^/]+$/, "/postgres") });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return sharedUrl.replace(/\/[^/]+$/, `/${name}`);
}
