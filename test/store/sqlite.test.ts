import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { storeContract } from "./contract.js";

// A file, not ":memory:": every open() is a separate connection to the same database.
const dir = mkdtempSync(join(tmpdir(), "mailq-store-"));
const path = join(dir, "store.sqlite");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract("sqlite", async () => openSqliteStore(path), {
  async exec(sql) {
    const db = new Database(path);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  },
});
