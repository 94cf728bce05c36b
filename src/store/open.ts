import * as z from "zod";
import type { Config } from "../config.js";
import { formatIssues } from "../config.js";
import { MailqError } from "../errors.js";
import type { Store } from "./store.js";

const POSTGRES_URL = "a postgres://user:password@host:port/database URL";

const storeEnvSchema = z.object({
  MAILQ_DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: POSTGRES_URL })
    .regex(/^postgres(ql)?:\/\//, POSTGRES_URL)
    .optional(),
});

/** Where the store lives, from the environment: PostgreSQL when MAILQ_DATABASE_URL is set. */
export function parseStoreEnv(env: NodeJS.ProcessEnv): { databaseUrl?: string } {
  const r = storeEnvSchema.safeParse({ MAILQ_DATABASE_URL: env.MAILQ_DATABASE_URL || undefined });
  if (!r.success)
    throw new MailqError("CONFIG_INVALID", `Store environment is invalid:\n${formatIssues(r.error)}`, {
      hint: "Fix MAILQ_DATABASE_URL, or unset it to use the SQLite file in store.path",
    });
  return r.data.MAILQ_DATABASE_URL ? { databaseUrl: r.data.MAILQ_DATABASE_URL } : {};
}

/** PostgreSQL (shared by every replica) when MAILQ_DATABASE_URL is set, else SQLite at store.path. */
export async function openStore(config: Config, env: NodeJS.ProcessEnv): Promise<Store> {
  const { databaseUrl } = parseStoreEnv(env);
  // Each driver loads only when chosen.
  if (databaseUrl) return (await import("./postgres/index.js")).openPostgresStore(databaseUrl);
  const store = (await import("./sqlite/index.js")).openSqliteStore(config.store.path);
  try {
    await store.migrated;
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
