import { describe, expect, it } from "vitest";
import { diskReport } from "../../src/analysis/snapshot.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { rememberedQueueDirectories } from "../../src/usecases/status.js";
import { MIN, snapOf, T0 } from "../watch/helpers.js";

const thresholds = { diskPercent: 90, inodePercent: 90 };
const withDisk = (relay: string, atMs: number, path: string | null) => ({
  ...snapOf(relay, atMs, { deferred: 3 }),
  disk: path === null ? null : diskReport(path, null, null, thresholds),
});

describe("rememberedQueueDirectories", () => {
  it("gives each relay the queue directory of its newest stored snapshot, and nothing for the rest", async () => {
    const store = openSqliteStore(":memory:");
    try {
      await store.snapshots.save(withDisk("relay-a", T0, "/var/spool/postfix"), T0);
      await store.snapshots.save(withDisk("relay-a", T0 + MIN, "/srv/spool/postfix-out"), T0 + MIN);
      await store.snapshots.save(withDisk("relay-b", T0, null), T0);
      const dirs = await rememberedQueueDirectories(store, ["relay-a", "relay-b", "relay-c"]);
      expect([...dirs]).toEqual([["relay-a", "/srv/spool/postfix-out"]]);
    } finally {
      await store.close();
    }
  });
});
