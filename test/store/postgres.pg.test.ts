import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { localConfig } from "../../src/config.js";
import { openStore } from "../../src/store/open.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { privateDatabase } from "../db/private-database.js";
import "../db/types.js";
import { storeContract } from "./contract.js";

const url = inject("postgresUrl");
// The contract's own database: it drops tables and the migrations record, and its watches are
// due at once; other files' stores and schedulers must not meet either mid-run.
const contractUrl = await privateDatabase(url, "mailq_contract");

// Every open() is its own pool: two pools are two bot processes on one database.
storeContract("postgres", () => openPostgresStore(contractUrl, { max: 4 }), {
  async exec(sql) {
    const c = new pg.Client({ connectionString: contractUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  },
});

describe("openStore with MAILQ_DATABASE_URL", () => {
  it("opens PostgreSQL, and a second replica opening at the same moment does not race on the schema", async () => {
    const config = localConfig("/nonexistent");
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openStore(config, { MAILQ_DATABASE_URL: url })),
    );
    try {
      expect(stores.map((s) => s.kind)).toEqual(["postgres", "postgres", "postgres", "postgres"]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("a server that is not there: the error names the URL without its password and what to check", async () => {
    const err = await openPostgresStore("postgres://bot:s3cret@127.0.0.1:1/mailq", {
      connectTimeoutMs: 2_000,
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("postgres://bot:***@127.0.0.1:1/mailq");
    expect((err as Error).message).toContain("MAILQ_DATABASE_URL");
    expect((err as Error).message).not.toContain("s3cret");
  });
});
