import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileSha256 } from "../../src/archive/archive.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { runCli } from "../helpers/cli.js";

const DAY = 86_400_000;

async function setUp() {
  const dir = mkdtempSync(join(tmpdir(), "mailq-archive-"));
  const storePath = join(dir, "store.sqlite");
  const store = openSqliteStore(storePath);
  const put = async (queueId: string, ageDays: number) => {
    const path = join(dir, `${queueId}.postcat`);
    writeFileSync(
      path,
      `*** ENVELOPE RECORDS hold/${queueId} ***\n*** MESSAGE FILE END hold/${queueId} ***\n`,
    );
    await store.archive.record({
      id: `relay-a/INC-9/${queueId}-1`,
      relay: "relay-a",
      ticket: "INC-9",
      requestId: "r-1",
      queueId,
      queueName: "hold",
      arrivalTime: 1,
      sender: "a@x.example",
      recipientDomains: ["y.example"],
      path,
      bytes: 10,
      sha256: await fileSha256(path),
      archivedAtMs: Date.now() - ageDays * DAY,
      deletedBy: "UALICE",
      approvedBy: ["UBOB"],
    });
    return path;
  };
  const relay = {
    name: "relay-a",
    host: "127.0.0.1",
    username: "x",
    privateKeyPath: "/nonexistent",
    hostKeyFingerprint: `SHA256:${"A".repeat(43)}`,
  };
  const config = { relays: [relay], store: { path: storePath }, archive: { path: dir, retention: "30d" } };
  return { dir, store, put, config };
}

describe("mailq-bot archive verify and prune", () => {
  it("verify exits 0 when every file is intact, 1 naming each one that is missing or changed", async () => {
    const { store, put, config } = await setUp();
    const a = await put("AAAAA11111", 1);
    const b = await put("BBBBB22222", 1);
    await put("CCCCC33333", 1);
    const first = await runCli(["archive", "verify"], config);
    expect(first.err).toBe("");
    expect(first.out).toContain("3 archived message(s) checked, 3 intact, 0 not");
    writeFileSync(a, "changed");
    const { unlinkSync } = await import("node:fs");
    unlinkSync(b);
    const r = await runCli(["archive", "verify"], config);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/MISMATCH relay-a INC-9 AAAAA11111 .*checksum mismatch/);
    expect(r.out).toMatch(/MISMATCH relay-a INC-9 BBBBB22222 .*missing/);
    expect(r.out).toContain("3 archived message(s) checked, 1 intact, 2 not");
    await store.close();
  });

  it("prune removes what is past archive.retention, once, with an audit line; the rest stays restorable", async () => {
    const { store, put, config } = await setUp();
    const old = await put("DDDDD44444", 31);
    const young = await put("EEEEE55555", 29);
    const r = await runCli(["archive", "prune"], config);
    expect(r.out).toContain("1 archived message(s) older than archive.retention pruned");
    expect(existsSync(old)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect((await runCli(["archive", "prune"], config)).out).toContain("0 archived message(s)");
    const trail = await store.audit.list({ ticket: "INC-9", limit: 10 });
    expect(trail.map((e) => [e.kind, e.detail.ids])).toEqual([["prune", ["DDDDD44444"]]]);
    const listed = await runCli(["archive", "list", "--json"], config);
    const states = listed.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { queueId: string; state: string });
    expect(states.map((s) => [s.queueId, s.state.split(" ")[0]])).toEqual([
      ["DDDDD44444", "pruned"],
      ["EEEEE55555", "restorable"],
    ]);
    await store.close();
  });

  it("files archived before checksums were kept: verify names them, adopt records them with who deleted them", async () => {
    const { dir, store, config } = await setUp();
    const folder = join(dir, "relay-a", "INC-7");
    mkdirSync(folder, { recursive: true });
    const path = join(folder, "076441671B8-1763813209.postcat");
    copyFileSync(new URL("../fixtures/relay-a/postcat-q.txt", import.meta.url), path);
    await store.audit.append({
      atMs: 1,
      kind: "execute",
      actor: "UBOB",
      relay: "relay-a",
      ticket: "INC-7",
      requestId: "old-delete",
      detail: {
        action: "delete",
        requester: "UALICE",
        approvers: ["UBOB"],
        result: { archived: [{ path }] },
      },
    });
    const before = await runCli(["archive", "verify"], config);
    expect(before.out).toContain("1 archived file(s) have no checksum in the store");
    const adopt = await runCli(["archive", "adopt"], config);
    expect(adopt.out).toContain("1 archived file(s) recorded with a checksum taken now");
    expect(await store.archive.get("relay-a/INC-7/076441671B8-1763813209")).toMatchObject({
      requestId: "old-delete",
      deletedBy: "UALICE",
      approvedBy: ["UBOB"],
      sender: "reports@billing.example.internal",
      recipientDomains: ["refused.lab.test", "throttle.lab.test", "dnsfail.lab.test"],
      sha256: await fileSha256(path),
    });
    const after = await runCli(["archive", "verify"], config);
    expect(after.out).toBe("1 archived message(s) checked, 1 intact, 0 not\n");
    expect((await store.audit.list({ ticket: "INC-7", limit: 5 }))[0]?.detail).toMatchObject({
      adopted: true,
    });
    await store.close();
  });

  it("refuses an unknown archive subcommand", async () => {
    const { config } = await setUp();
    const r = await runCli(["archive", "delete"], config);
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: mailq-bot archive list|verify|prune|adopt");
  });
});
