import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localConfig } from "../../src/config.js";
import { isMailqError } from "../../src/errors.js";
import { openStore, parseStoreEnv } from "../../src/store/open.js";

describe("openStore / MAILQ_DATABASE_URL", () => {
  it("accepts postgres:// and postgresql:// URLs; empty or unset means SQLite", () => {
    expect(parseStoreEnv({ MAILQ_DATABASE_URL: "postgres://bot:pw@127.0.0.1:5432/mailq" })).toEqual({
      databaseUrl: "postgres://bot:pw@127.0.0.1:5432/mailq",
    });
    expect(parseStoreEnv({ MAILQ_DATABASE_URL: "postgresql://db.internal/mailq" }).databaseUrl).toBe(
      "postgresql://db.internal/mailq",
    );
    expect(parseStoreEnv({ MAILQ_DATABASE_URL: "" })).toEqual({});
    expect(parseStoreEnv({})).toEqual({});
  });

  it.each(["mysql://h/db", "127.0.0.1:5432", "postgres:/ /nope"])(
    "refuses %s, naming the variable",
    (url) => {
      let err: unknown;
      try {
        parseStoreEnv({ MAILQ_DATABASE_URL: url });
      } catch (e) {
        err = e;
      }
      expect(isMailqError(err) && err.code).toBe("CONFIG_INVALID");
      expect((err as Error).message).toContain("MAILQ_DATABASE_URL");
    },
  );

  it("never repeats the URL (it may hold a password) in the refusal", () => {
    expect(() => parseStoreEnv({ MAILQ_DATABASE_URL: "mysql://bot:s3cret@h/db" })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("s3cret") }),
    );
  });

  it("opens SQLite at store.path without MAILQ_DATABASE_URL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mailq-open-"));
    try {
      const store = await openStore(localConfig(dir), {});
      expect(store.kind).toBe("sqlite");
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
