import pg from "pg";
import { inject } from "vitest";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import "../db/types.js";
import { storeContract } from "./contract.js";

const url = inject("postgresUrl");

// Every open() is its own pool: two pools are two bot processes on one database.
storeContract("postgres", () => openPostgresStore(url, { max: 4 }), {
  async exec(sql) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  },
});
