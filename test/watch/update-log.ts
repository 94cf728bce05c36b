import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";

/** updateLog, the same on every store: what each claimed update of a watch became. */
export function updateLogContract(name: string, open: () => Promise<Store>): void {
  describe(`watch update log: ${name}`, () => {
    it("lists the claimed updates oldest first, posted or not, for that watch only", async () => {
      const store = await open();
      try {
        const mk = (id: string) =>
          store.watches.create({
            id,
            relay: "relay-a",
            channelId: "C1",
            messageTs: "1.0001",
            createdBy: "UALICE",
            intervalMs: 60_000,
            startedAtMs: 1_000,
            nextDueMs: 61_000,
          });
        const [a, b] = [await mk(`w-${randomUUID()}`), await mk(`w-${randomUUID()}`)];
        expect(await store.watches.updateLog(a.id)).toEqual([]);
        expect(await store.watches.claimUpdate(a.id, 2, 121_000, 121_500)).toBe(true);
        expect(await store.watches.claimUpdate(a.id, 1, 61_000, 61_200)).toBe(true);
        expect(await store.watches.claimUpdate(b.id, 1, 61_000, 61_300)).toBe(true);
        await store.watches.recordPosted(a.id, 1, "2.0001");
        expect(await store.watches.updateLog(a.id)).toEqual([
          { seq: 1, dueMs: 61_000, claimedAtMs: 61_200, posted: true, messageTs: "2.0001" },
          { seq: 2, dueMs: 121_000, claimedAtMs: 121_500, posted: false, messageTs: null },
        ]);
        // a stale claim taken over shows the new claim time
        expect(await store.watches.claimUpdate(a.id, 2, 121_000, 500_000, 60_000)).toBe(true);
        expect((await store.watches.updateLog(a.id))[1]?.claimedAtMs).toBe(500_000);
        expect((await store.watches.updateLog(b.id)).map((u) => u.seq)).toEqual([1]);
      } finally {
        await store.close();
      }
    });
  });
}
