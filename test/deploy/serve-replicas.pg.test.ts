/**
 * Two real `mailq-bot serve` processes (the CLI, as deployed) on one PostgreSQL database and one
 * loopback Slack: one of them runs the watch schedules; each update is posted once; when that
 * one is killed with SIGKILL (no clean release) the other takes over within one interval.
 * Each replica has its own bot token, so every Web API call says which process made it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import "../db/types.js";
import { holdRequest } from "../helpers/approvals.js";
import { HARNESS_MS } from "../helpers/deadlines.js";
import {
  type LogLine,
  type ServeProcess,
  spawnServe,
  until as untilLogged,
} from "../helpers/serve-process.js";
import { type FakeSlack, pressApproval, type SlackCall, startFakeSlack } from "../helpers/slack.js";

const INTERVAL_MS = 8000;
const SIGNING_SECRET = "replica-signing-secret-0123456789";
/** The scheduler's own tick (src/watch/scheduler.ts): an update may go out this long after it is due. */
const TICK_MS = 5000;

interface Replica extends ServeProcess {
  name: string;
  token: string;
}

let slack: FakeSlack;
let dbUrl: string;
let dir: string;
const replicas: Replica[] = [];

/** A database of its own: these processes schedule every active watch they find. */
beforeAll(async () => {
  slack = await startFakeSlack();
  const base = inject("postgresUrl");
  const name = `mailq_serve_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base.replace(/\/[^/]+$/, "/postgres") });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  dbUrl = base.replace(/\/[^/]+$/, `/${name}`);
  dir = mkdtempSync(join(tmpdir(), "mailq-serve-"));
  writeFileSync(
    join(dir, "mailq.yaml"),
    stringify({
      // A relay on a closed loopback port: each update reports it unreachable, and nothing leaves the machine.
      relays: [
        {
          name: "relay-down",
          host: "127.0.0.1",
          port: 1,
          username: "mailq",
          privateKeyPath: join(dir, "no-key"),
          hostKeyFingerprint: `SHA256:${"A".repeat(43)}`,
        },
      ],
      watch: { leaseTtl: "2s" },
      access: { approvers: ["UBOB", "UCAROL"] },
      store: { path: join(dir, "unused.sqlite") },
      archive: { path: join(dir, "archive") },
    }),
  );
});

afterAll(async () => {
  for (const r of replicas)
    if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill("SIGKILL");
  await slack?.close();
});

function serve(name: string): Replica {
  const token = `xoxb-replica-${name}`;
  const r: Replica = {
    name,
    token,
    ...spawnServe(join(dir, "mailq.yaml"), {
      HOME: dir,
      MAILQ_DATABASE_URL: dbUrl,
      SLACK_BOT_TOKEN: token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: "0",
    }),
  };
  replicas.push(r);
  return r;
}

const until = <T>(f: () => T | undefined | false, timeoutMs: number, what: string) =>
  untilLogged(f, timeoutMs, what, () => replicas.map((r) => [r.name, r.log.map((l: LogLine) => l.msg)]));

const leading = (r: Replica) =>
  r.log.filter((l) => /^watch scheduler lease (taken|lost)$/.test(l.msg)).at(-1)?.msg ===
  "watch scheduler lease taken";
const byToken = (c: SlackCall) => replicas.find((r) => c.headers.authorization === `Bearer ${r.token}`)?.name;

const started = (r: Replica) => r.log.find((l) => l.msg === "mailq-bot started");

describe("two mailq-bot serve processes on one PostgreSQL database", () => {
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    [a, b] = [serve("a"), serve("b")];
    await until(() => started(a), 30_000, "replica a to start");
    await until(() => started(b), 30_000, "replica b to start");
  }, 60_000);

  it("one approval pressed on both at once by two approvers runs once", async () => {
    expect(started(a)).toMatchObject({ store: "postgres", transport: "http" });
    const store = await openPostgresStore(dbUrl, { max: 1 });
    const id = randomUUID();
    // A request as `/mailq hold` leaves it; its relay is down, so the one run fails, once.
    await store.approvals.create(
      holdRequest(Date.now(), { id, relay: "relay-down", ticket: "INC-900", messageTs: "1700000000.000900" }),
    );
    const url = (r: Replica) => `http://127.0.0.1:${started(r)?.port}/slack/events`;
    const said = await Promise.all(
      [
        [a, "UBOB"],
        [b, "UCAROL"],
      ].map(([r, user]) =>
        pressApproval(
          slack,
          { url: url(r as Replica), secret: SIGNING_SECRET },
          { id, user: user as string },
        ),
      ),
    );
    const winners = said.filter((t) => t.startsWith("Request failed:"));
    expect(winners, said.join(" | ")).toHaveLength(1);
    expect(winners[0]).toMatch(/relay-down/);
    const loser = said.find((t) => !t.startsWith("Request failed:"));
    expect(loser, said.join(" | ")).toMatch(
      /^(?:Someone acted on that request first\.|That request is already (?:executing|failed))/,
    );
    const kinds = (await store.audit.list({ ticket: "INC-900", limit: 100 })).map((e) => e.kind);
    expect(kinds.filter((k) => k === "execute")).toHaveLength(1);
    expect(kinds.filter((k) => k === "approve")).toHaveLength(1);
    expect((await store.approvals.get(id))?.status).toBe("failed");
    await store.close();
  }, 60_000);

  it("post each watch update once; after a SIGKILL of the scheduling one, the other posts the next update on time", async () => {
    await until(() => [a, b].find(leading), 10_000, "a leader");

    // The watch as `/mailq watch` leaves it (the command's minimum is 1m; 8 s keeps the test short).
    const store = await openPostgresStore(dbUrl, { max: 1 });
    const startedAtMs = Date.now();
    const headerTs = "1700000000.000100";
    const watchId = `w-${randomBytes(4).toString("hex")}`;
    await store.watches.create({
      id: watchId,
      relay: "relay-down",
      channelId: "CINCIDENT",
      messageTs: headerTs,
      createdBy: "UALICE",
      intervalMs: INTERVAL_MS,
      startedAtMs,
      nextDueMs: startedAtMs + INTERVAL_MS,
    });
    const updates = () => slack.callsTo("chat.postMessage").filter((c) => c.body.thread_ts === headerTs);

    const first = await until(() => updates()[0], INTERVAL_MS + TICK_MS + 5000, "update 1");
    // The process that posted it is the one running the schedules: that one is killed.
    const leader = [a, b].find((r) => r.name === byToken(first)) as Replica;
    const survivor = leader === a ? b : a;
    expect(leading(leader)).toBe(true);
    expect(first.atMs).toBeGreaterThanOrEqual(startedAtMs + INTERVAL_MS);
    expect(String(first.body.text)).toMatch(/relay-down/);

    // Killed once update 1 is done: posted, recorded and the watch moved on. (A kill between
    // Slack's answer and the record is the known gap: that update's claim is taken over only once
    // it is older than any run could take, probes.listingTimeout and more.)
    for (const end = Date.now() + INTERVAL_MS; ; await new Promise((r) => setTimeout(r, 50))) {
      const [log, w] = await Promise.all([store.watches.updateLog(watchId), store.watches.get(watchId)]);
      if (log[0]?.posted === true && w?.updates === 1) break;
      if (Date.now() > end) throw new Error("update 1 was posted but not recorded within an interval");
    }
    leader.proc.kill("SIGKILL");
    const second = await until(() => updates()[1], 2 * INTERVAL_MS + TICK_MS, "update 2");
    expect(byToken(second)).toBe(survivor.name);
    // On time although the leader died without giving up its lease: the survivor holds the lease
    // long before update 2 is due (leaseTtl 2 s), claims it at its first tick once due, and posts it
    // within the harness's share (the relay refuses at once).
    expect(second.atMs - (startedAtMs + 2 * INTERVAL_MS)).toBeLessThan(TICK_MS + HARNESS_MS);
    expect(leading(survivor)).toBe(true);

    // Nothing posted twice: a little after update 2, still exactly two updates, one per number.
    await new Promise((r) => setTimeout(r, 1500));
    expect(updates()).toHaveLength(2);
    expect((await store.watches.updateLog(watchId)).map((u) => [u.seq, u.posted, u.messageTs])).toEqual([
      [1, true, expect.any(String)],
      [2, true, expect.any(String)],
    ]);
    await store.close();

    survivor.proc.kill("SIGTERM");
    await until(
      () => survivor.proc.exitCode !== null || undefined,
      10_000,
      "the survivor to stop on SIGTERM",
    );
    expect(survivor.proc.exitCode).toBe(0);
  });
});
