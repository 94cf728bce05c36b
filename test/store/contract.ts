/**
 * The behaviour every Store must have, run against SQLite (test/store/sqlite.test.ts) and
 * PostgreSQL (test/store/postgres.pg.test.ts). Every `open()` is a new connection (pool) to the
 * SAME database, the way two bot processes share one; tests keep apart by unique IDs.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { buildSnapshot, type RelaySnapshot } from "../../src/analysis/snapshot.js";
import { MIGRATIONS_TABLE } from "../../src/store/migrate.js";
import type { ApprovalRequest, ExecutionResult, Store, Watch } from "../../src/store/store.js";

export interface ContractOptions {
  /** Runs one SQL statement on the same database over a separate connection. */
  exec(sql: string): Promise<void>;
}

const uid = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export function snapshotOf(
  relay: string,
  messages: number,
  extra: Partial<RelaySnapshot> = {},
): RelaySnapshot {
  return {
    ...buildSnapshot({ relay, takenAtMs: 1_700_000_000_000, listingComplete: true, probeErrors: [] }),
    messages,
    ...extra,
  };
}

export function newWatch(id = uid("w"), nowMs = 1_000): Parameters<Store["watches"]["create"]>[0] {
  return {
    id,
    relay: "relay-a",
    channelId: "C0123",
    messageTs: null,
    createdBy: "U0001",
    intervalMs: 60_000,
    startedAtMs: nowMs,
    nextDueMs: nowMs + 60_000,
  };
}

export function newApproval(id = uid("r")): Parameters<Store["approvals"]["create"]>[0] {
  return {
    id,
    relay: "relay-a",
    action: "release",
    selector: "queue=hold domain=example.org",
    ticket: "OPS-42",
    reason: 'customer "asked" \\ twice',
    requester: "U0001",
    channelId: "C0123",
    messageTs: "1700000000.000100",
    createdAtMs: 1_000,
    expiresAtMs: 901_000,
    frozen: [
      {
        queueId: "4XyZ1abcD",
        queueName: "hold",
        arrivalTime: 1_700_000_000,
        sender: "bounce@shop.example",
        recipientDomains: ["example.org", "ünïcode.example"],
      },
    ],
    command: "postsuper -H -",
  };
}

/** Runs `n` calls at once and counts the true answers. */
async function winners(n: number, f: (i: number) => Promise<boolean>): Promise<number> {
  const r = await Promise.all(Array.from({ length: n }, (_, i) => f(i)));
  return r.filter(Boolean).length;
}

export function storeContract(name: string, open: () => Promise<Store>, o: ContractOptions): void {
  describe(`store contract: ${name}`, () => {
    const opened: Store[] = [];
    const store = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    describe("snapshots", () => {
      it("latest is newest first and limited; since is oldest first and inclusive", async () => {
        const s = await store();
        const relay = uid("relay");
        for (const [t, n] of [
          [3_000, 3],
          [1_000, 1],
          [2_000, 2],
          [4_000, 4],
        ] as const)
          await s.snapshots.save(snapshotOf(relay, n), t);
        await s.snapshots.save(snapshotOf(uid("other"), 99), 5_000);
        const latest = await s.snapshots.latest(relay, 2);
        expect(latest.map((x) => [x.takenAtMs, x.snapshot.messages])).toEqual([
          [4_000, 4],
          [3_000, 3],
        ]);
        const since = await s.snapshots.since(relay, 2_000);
        expect(since.map((x) => x.takenAtMs)).toEqual([2_000, 3_000, 4_000]);
        expect(since.every((x) => x.relay === relay)).toBe(true);
      });

      it("two snapshots at the same time come back in insertion order (id breaks the tie)", async () => {
        const s = await store();
        const relay = uid("relay");
        const a = await s.snapshots.save(snapshotOf(relay, 1), 7_000);
        const b = await s.snapshots.save(snapshotOf(relay, 2), 7_000);
        expect(b.id).toBeGreaterThan(a.id);
        expect((await s.snapshots.latest(relay, 5)).map((x) => x.id)).toEqual([b.id, a.id]);
        expect((await s.snapshots.since(relay, 0)).map((x) => x.id)).toEqual([a.id, b.id]);
      });

      it("the snapshot JSON round-trips, with quotes, backslashes, NUL and non-ASCII text", async () => {
        const s = await store();
        const relay = uid("relay");
        const snap = snapshotOf(relay, 12, {
          error: 'said "no" \\ \u0000 ünïcode 📨',
          topReasons: [{ reason: 'host said: 450 "try later" \\n', class: "greylisting", count: 7 } as never],
          takenAt: "2024-01-02T03:04:05.678Z",
        });
        const saved = await s.snapshots.save(snap, 8_000);
        expect(saved.snapshot).toEqual(snap);
        // Read through another connection: what is stored, not what was kept in memory.
        const other = await store();
        const [back] = await other.snapshots.latest(relay, 1);
        expect(back?.snapshot).toEqual(snap);
        expect(back?.takenAtMs).toBe(8_000);
        expect(typeof back?.id).toBe("number");
      });

      it("keeps millisecond times beyond 32 bits exactly", async () => {
        const s = await store();
        const relay = uid("relay");
        const t = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z
        await s.snapshots.save(snapshotOf(relay, 1), t);
        expect((await s.snapshots.since(relay, t))[0]?.takenAtMs).toBe(t);
        expect(await s.snapshots.since(relay, t + 1)).toEqual([]);
      });
    });

    describe("watches", () => {
      it("create, get, active and a compare-and-set update", async () => {
        const s = await store();
        const w = await s.watches.create(newWatch());
        expect(w).toMatchObject({ updates: 0, drainedStreak: 0, status: "active", stopReason: null });
        expect(await s.watches.get(w.id)).toEqual(w);
        expect(await s.watches.get(uid("missing"))).toBeUndefined();
        expect((await s.watches.active()).map((x) => x.id)).toContain(w.id);

        expect(
          await s.watches.update(w.id, w.version, { updates: 1, nextDueMs: 121_000, messageTs: "1.2" }),
        ).toBe(true);
        const after = (await s.watches.get(w.id)) as Watch;
        expect(after).toMatchObject({
          updates: 1,
          nextDueMs: 121_000,
          messageTs: "1.2",
          version: w.version + 1,
        });
        // The stale version loses, and changes nothing.
        expect(await s.watches.update(w.id, w.version, { updates: 5 })).toBe(false);
        expect((await s.watches.get(w.id))?.updates).toBe(1);

        expect(
          await s.watches.update(w.id, after.version, { status: "stopped", stopReason: "by U0002" }),
        ).toBe(true);
        expect((await s.watches.active()).map((x) => x.id)).not.toContain(w.id);
      });

      it("many concurrent updates from two connections with the same version: exactly one wins", async () => {
        const [a, b] = [await store(), await store()];
        const w = await a.watches.create(newWatch());
        const n = await winners(20, (i) =>
          (i % 2 ? a : b).watches.update(w.id, w.version, { drainedStreak: i + 1 }),
        );
        expect(n).toBe(1);
        expect((await b.watches.get(w.id))?.version).toBe(w.version + 1);
      });

      it("claimUpdate: exactly one of many concurrent claims of one (watch, seq) wins", async () => {
        const [a, b] = [await store(), await store()];
        const w = await a.watches.create(newWatch());
        expect(
          await winners(20, (i) => (i % 2 ? a : b).watches.claimUpdate(w.id, 1, 61_000, 61_000 + i)),
        ).toBe(1);
        // The next seq is a new claim; the same one again is not.
        expect(await b.watches.claimUpdate(w.id, 2, 121_000, 121_000)).toBe(true);
        expect(await a.watches.claimUpdate(w.id, 1, 61_000, 200_000)).toBe(false);
        await a.watches.recordPosted(w.id, 1, "1700000001.000200");
        expect(await b.watches.claimUpdate(w.id, 1, 61_000, 300_000)).toBe(false);
      });

      it("claimUpdate: a claim never posted (its process died) is taken over once stale, by one caller", async () => {
        const [a, b] = [await store(), await store()];
        const w = await a.watches.create(newWatch());
        expect(await a.watches.claimUpdate(w.id, 1, 61_000, 61_000, 60_000)).toBe(true);
        expect(await b.watches.claimUpdate(w.id, 1, 61_000, 61_000 + 59_999, 60_000)).toBe(false);
        expect(
          await winners(10, (i) => (i % 2 ? a : b).watches.claimUpdate(w.id, 1, 61_000, 121_000, 60_000)),
        ).toBe(1);
        await b.watches.recordPosted(w.id, 1, "1700000001.000300");
        expect(await a.watches.claimUpdate(w.id, 1, 61_000, 10_000_000, 60_000)).toBe(false);
      });
    });

    describe("approvals", () => {
      it("create and get round-trip every field, with JSON frozen/approvers/result", async () => {
        const s = await store();
        const req = newApproval();
        const created = await s.approvals.create(req);
        expect(created).toEqual({
          ...req,
          status: "pending",
          approvers: [],
          result: null,
          version: created.version,
        });
        const other = await store();
        expect(await other.approvals.get(req.id)).toEqual(created);
        expect(await other.approvals.get(uid("missing"))).toBeUndefined();
        expect((await other.approvals.pending()).map((r) => r.id)).toContain(req.id);

        const result: ExecutionResult = {
          outcomes: [{ queueId: "A", outcome: "released from hold" }],
          skipped: [{ queueId: "B", why: "left the queue" }],
          archived: [],
          summary: ["hold: Released from hold: 1 message"],
          output: ['postsuper: Released "1" \\ message'],
          progress: { runs: 1, of: 1, ids: 1, total: 2 },
          startedAtMs: 1_700_000_000_000,
          finishedAtMs: 1_700_000_001_000,
          verification: "1 of 1 out of hold",
        };
        expect(
          await other.approvals.transition(req.id, "pending", created.version, {
            status: "done",
            approvers: ["U0002", "U0003"],
            result,
            messageTs: "1700000002.000300",
          }),
        ).toBe(true);
        const done = (await s.approvals.get(req.id)) as ApprovalRequest;
        expect(done).toMatchObject({
          status: "done",
          approvers: ["U0002", "U0003"],
          result,
          messageTs: "1700000002.000300",
          version: created.version + 1,
        });
        expect((await s.approvals.pending()).map((r) => r.id)).not.toContain(req.id);
      });

      it("executing() lists the requests running now, and only those", async () => {
        const s = await store();
        const running = await s.approvals.create(newApproval());
        const waiting = await s.approvals.create(newApproval());
        expect(
          await s.approvals.transition(running.id, "pending", running.version, { status: "executing" }),
        ).toBe(true);
        const ids = (await (await store()).approvals.executing()).map((r) => r.id);
        expect(ids).toContain(running.id);
        expect(ids).not.toContain(waiting.id);
        const now = (await s.approvals.get(running.id)) as ApprovalRequest;
        await s.approvals.transition(running.id, "executing", now.version, { status: "failed" });
        expect((await s.approvals.executing()).map((r) => r.id)).not.toContain(running.id);
      });

      it("transition is a compare-and-set on status and version", async () => {
        const s = await store();
        const r = await s.approvals.create(newApproval());
        expect(await s.approvals.transition(r.id, "approved", r.version, { status: "executing" })).toBe(
          false,
        );
        expect(await s.approvals.transition(r.id, "pending", r.version + 1, { status: "approved" })).toBe(
          false,
        );
        expect((await s.approvals.get(r.id))?.status).toBe("pending");
        expect(await s.approvals.transition(r.id, "pending", r.version, { status: "approved" })).toBe(true);
        expect(await s.approvals.transition(r.id, "pending", r.version, { status: "rejected" })).toBe(false);
        expect((await s.approvals.get(r.id))?.status).toBe("approved");
      });

      it("two processes executing one approval: of many concurrent transitions exactly one wins", async () => {
        const [a, b] = [await store(), await store()];
        const r = await a.approvals.create(newApproval());
        await a.approvals.transition(r.id, "pending", r.version, { status: "approved" });
        const approved = (await b.approvals.get(r.id)) as ApprovalRequest;
        const n = await winners(20, (i) =>
          (i % 2 ? a : b).approvals.transition(r.id, "approved", approved.version, {
            status: "executing",
            result: {
              outcomes: [],
              skipped: [],
              archived: [],
              summary: [],
              output: [],
              progress: { runs: 0, of: 0, ids: 0, total: 1 },
              startedAtMs: i,
              verification: "",
            },
          }),
        );
        expect(n).toBe(1);
        expect((await a.approvals.get(r.id))?.status).toBe("executing");
      });
    });

    describe("audit", () => {
      const entry = (ticket: string, relay: string, i: number) => ({
        atMs: 1_000 + i,
        kind: "request" as const,
        actor: "U0001",
        relay,
        ticket,
        requestId: `r-${i}`,
        detail: { i, text: 'quoted "x" \\ y', list: [1, null, true] },
      });

      it("append, list (newest first, filtered, limited) and all (oldest first)", async () => {
        const s = await store();
        const ticket = uid("OPS");
        const relay = uid("relay");
        const appended = [];
        for (let i = 0; i < 5; i++) appended.push(await s.audit.append(entry(ticket, relay, i)));
        await s.audit.append(entry(uid("OTHER"), relay, 9));
        expect(appended.map((e) => e.id)).toEqual([...appended.map((e) => e.id)].sort((x, y) => x - y));
        const listed = await s.audit.list({ ticket, limit: 3 });
        expect(listed).toEqual([appended[4], appended[3], appended[2]]);
        expect((await s.audit.list({ relay, limit: 100 })).length).toBe(6);
        expect((await s.audit.list({ ticket, relay: uid("nope"), limit: 100 })).length).toBe(0);
        const all = [];
        for await (const e of s.audit.all()) if (e.ticket === ticket) all.push(e);
        expect(all).toEqual(appended);
        const nulls = await s.audit.append({
          ...entry(ticket, relay, 7),
          relay: null,
          ticket: null,
          requestId: null,
        });
        expect((await s.audit.list({ limit: 1 }))[0]).toEqual(nulls);
      });

      it("is append-only at the database level: UPDATE and DELETE fail", async () => {
        const s = await store();
        const e = await s.audit.append(entry(uid("OPS"), "relay-a", 1));
        await expect(o.exec(`UPDATE audit SET actor = 'forged' WHERE id = ${e.id}`)).rejects.toThrow(
          /append-only/,
        );
        await expect(o.exec(`DELETE FROM audit WHERE id = ${e.id}`)).rejects.toThrow(/append-only/);
        await expect(o.exec("DELETE FROM audit")).rejects.toThrow(/append-only/);
        const [back] = await s.audit.list({ ticket: e.ticket as string, limit: 1 });
        expect(back).toEqual(e);
      });
    });

    describe("archive", () => {
      const archived = (ticket: string, queueId: string, archivedAtMs = 5_000) => ({
        id: `relay-a/${ticket}/${queueId}-1700000000`,
        relay: "relay-a",
        ticket,
        requestId: uid("del"),
        queueId,
        queueName: "hold",
        arrivalTime: 1_700_000_000,
        sender: "bounce@shop.example",
        recipientDomains: ["example.org", "ünïcode.example"],
        path: `/var/lib/mailq-bot/archive/relay-a/${ticket}/${queueId}-1700000000.postcat`,
        bytes: 4_321,
        sha256: "a".repeat(64),
        archivedAtMs,
        deletedBy: "U0001",
        approvedBy: ["U0002"],
      });

      it("record, get and list (by ticket, oldest first) round-trip every field; recording again replaces the checksum", async () => {
        const s = await store();
        const ticket = uid("INC");
        const a = archived(ticket, "4XyZ1abcD", 7_000);
        const b = archived(ticket, "5AbC2defE", 6_000);
        await s.archive.record(a);
        await s.archive.record(b);
        expect(await s.archive.get(a.id)).toEqual({ ...a, restore: null, prunedAtMs: null });
        expect((await s.archive.list({ ticket })).map((m) => m.queueId)).toEqual(["5AbC2defE", "4XyZ1abcD"]);
        await s.archive.record({ ...a, sha256: "b".repeat(64), bytes: 99 });
        expect(await s.archive.get(a.id)).toMatchObject({ sha256: "b".repeat(64), bytes: 99 });
        expect(await s.archive.list({ ticket: uid("none") })).toEqual([]);
      });

      it("one restore claim wins across processes; a released claim can be taken again; a restored one never", async () => {
        const [a, b] = [await store(), await store()];
        const m = archived(uid("INC"), "6CdE3fghJ");
        await a.archive.record(m);
        expect(await winners(10, (i) => (i % 2 ? a : b).archive.claimRestore(m.id, `R${i}`, 9_000))).toBe(1);
        const holder = (await a.archive.get(m.id))?.restore?.requestId as string;
        await b.archive.releaseRestore(m.id, "someone-else");
        expect(await b.archive.claimRestore(m.id, "R99", 9_001)).toBe(false);
        await b.archive.releaseRestore(m.id, holder);
        expect(await b.archive.claimRestore(m.id, "R99", 9_002)).toBe(true);
        await a.archive.markRestored(m.id, "R99", 9_500, null);
        await a.archive.markRestored(m.id, "R99", 9_900, "7NEWQUEUEID");
        expect((await b.archive.get(m.id))?.restore).toEqual({
          requestId: "R99",
          claimedAtMs: 9_002,
          restoredAtMs: 9_500,
          newQueueId: "7NEWQUEUEID",
        });
        await a.archive.releaseRestore(m.id, "R99");
        expect(await a.archive.claimRestore(m.id, "R100", 10_000)).toBe(false);
      });

      it("a pruned message is listed only when asked and can no longer be claimed", async () => {
        const s = await store();
        const ticket = uid("INC");
        const m = archived(ticket, "8EfG4hijK");
        await s.archive.record(m);
        expect(await winners(5, () => s.archive.markPruned(m.id, 11_000))).toBe(1);
        expect(await s.archive.list({ ticket })).toEqual([]);
        expect((await s.archive.list({ ticket, includePruned: true }))[0]?.prunedAtMs).toBe(11_000);
        expect(await s.archive.claimRestore(m.id, "R1", 12_000)).toBe(false);
      });

      it("a store from before the archive table gets it when opened (the baseline migration)", async () => {
        // As such a store was: no archive table, and no migrations recorded yet.
        await o.exec(`DROP TABLE IF EXISTS archive; DROP TABLE IF EXISTS ${MIGRATIONS_TABLE}`);
        const s = await store();
        const m = archived(uid("INC"), "9GhI5jklM");
        await s.archive.record(m);
        expect((await s.archive.get(m.id))?.sha256).toBe(m.sha256);
      });
    });

    describe("leases", () => {
      it("one holder at a time; renew while held; takeover only after expiry", async () => {
        const [a, b] = [await store(), await store()];
        const name = uid("lease");
        expect(await a.leases.get(name)).toBeUndefined();
        expect(await a.leases.acquire(name, "A", 10_000, 1_000)).toBe(true);
        expect(await b.leases.acquire(name, "B", 10_000, 5_000)).toBe(false);
        expect(await b.leases.get(name)).toEqual({ name, holder: "A", expiresAtMs: 11_000 });
        // A renews (both ways): the lease moves on; B still cannot take it.
        expect(await a.leases.renew(name, "A", 10_000, 9_000)).toBe(true);
        expect(await a.leases.acquire(name, "A", 10_000, 10_000)).toBe(true);
        expect(await b.leases.acquire(name, "B", 10_000, 19_999)).toBe(false);
        expect(await b.leases.renew(name, "B", 10_000, 19_999)).toBe(false);
        // A stops renewing: at expiry B takes over, and A's late renewal fails.
        expect(await b.leases.acquire(name, "B", 10_000, 20_000)).toBe(true);
        expect(await a.leases.renew(name, "A", 10_000, 20_001)).toBe(false);
        expect(await a.leases.get(name)).toEqual({ name, holder: "B", expiresAtMs: 30_000 });
      });

      it("an expired lease cannot be renewed, only re-acquired", async () => {
        const s = await store();
        const name = uid("lease");
        await s.leases.acquire(name, "A", 1_000, 0);
        expect(await s.leases.renew(name, "A", 1_000, 1_000)).toBe(false);
        expect(await s.leases.acquire(name, "A", 1_000, 1_000)).toBe(true);
      });

      it("release frees the lease at once, but only the holder's release", async () => {
        const [a, b] = [await store(), await store()];
        const name = uid("lease");
        await a.leases.acquire(name, "A", 60_000, 0);
        await b.leases.release(name, "B");
        expect(await b.leases.acquire(name, "B", 60_000, 1)).toBe(false);
        await a.leases.release(name, "A");
        expect(await b.leases.acquire(name, "B", 60_000, 2)).toBe(true);
      });

      it("many concurrent acquirers of a free or expired lease: exactly one wins", async () => {
        const [a, b] = [await store(), await store()];
        const name = uid("lease");
        expect(await winners(20, (i) => (i % 2 ? a : b).leases.acquire(name, `H${i}`, 1_000, 0))).toBe(1);
        expect(await winners(20, (i) => (i % 2 ? a : b).leases.acquire(name, `K${i}`, 1_000, 5_000))).toBe(1);
        expect((await a.leases.get(name))?.holder).toMatch(/^K\d+$/);
      });
    });
  });
}
