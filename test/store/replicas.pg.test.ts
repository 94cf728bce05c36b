/**
 * Two real bot processes on one PostgreSQL database: the schedule runs in one of them; each
 * due update is posted once; when the leader is killed (SIGKILL: no clean release) the other
 * takes over within one interval.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, inject, it } from "vitest";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import "../db/types.js";

const url = inject("postgresUrl");
const REPLICA = new URL("../db/replica.ts", import.meta.url).pathname;

interface Event {
  event: "started" | "leader" | "post" | "error";
  pid: number;
  at: number;
  leading?: boolean;
  seq?: number;
  dueMs?: number;
  /** When the posting replica read the watch and found it due, and when it last found nothing due. */
  lookAt?: number;
  previousLookAt?: number;
  message?: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function replica(env: Record<string, string>, events: Event[]): ChildProcess {
  const c = spawn(process.execPath, ["--import", "tsx", REPLICA], {
    env: { ...process.env, MAILQ_DATABASE_URL: url, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(c);
  createInterface({ input: c.stdout as NodeJS.ReadableStream }).on("line", (l) => events.push(JSON.parse(l)));
  return c;
}

async function until<T>(f: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function newWatch(intervalMs: number, firstDueInMs: number): Promise<string> {
  const store = await openPostgresStore(url, { max: 1 });
  const id = `w-${randomUUID().slice(0, 8)}`;
  const now = Date.now();
  await store.watches.create({
    id,
    relay: "relay-a",
    channelId: "C1",
    messageTs: null,
    createdBy: "U1",
    intervalMs,
    startedAtMs: now,
    nextDueMs: now + firstDueInMs,
  });
  await store.close();
  return id;
}

const posts = (events: Event[]) => events.filter((e) => e.event === "post");

describe("two replicas on one PostgreSQL", () => {
  it("one leader posts each update once; after a SIGKILL the other takes over within one interval", async () => {
    const INTERVAL = 1500;
    const TTL = 600;
    const EVERY = 150;
    const watchId = await newWatch(INTERVAL, 800);
    const events: Event[] = [];
    const env = {
      WATCH_ID: watchId,
      INTERVAL_MS: String(INTERVAL),
      TTL_MS: String(TTL),
      EVERY_MS: String(EVERY),
    };
    const a = replica(env, events);
    const b = replica(env, events);
    await until(() => events.filter((e) => e.event === "started").length === 2, 20_000, "both replicas");

    // Three updates, all from one process.
    await until(() => posts(events).length >= 3, 15_000, "three posts");
    const leaderPid = posts(events)[0]?.pid;
    expect(new Set(posts(events).map((p) => p.pid))).toEqual(new Set([leaderPid]));
    const leader = leaderPid === a.pid ? a : b;
    const follower = leader === a ? b : a;

    // Killed right after a post, so no update is half done: the next one is due in ~INTERVAL.
    const killedAt = Date.now();
    const lastDue = posts(events).at(-1)?.dueMs as number;
    leader.kill("SIGKILL");
    const takeover = await until(
      () => events.find((e) => e.event === "leader" && e.leading && e.pid === follower.pid),
      10_000,
      "takeover",
    );
    await until(
      () => posts(events).filter((p) => p.pid === follower.pid).length >= 2,
      10_000,
      "posts after takeover",
    );

    const firstAfter = posts(events).find((p) => p.pid === follower.pid) as Event;
    // Within one interval, the promise: the lease lapses at most TTL after the leader's last renewal
    // and the follower tries every EVERY, so 750 ms of the 1,500 are by design and the rest is for
    // the follower's query and the machine.
    expect(TTL + EVERY).toBeLessThan(INTERVAL);
    expect(takeover.at - killedAt).toBeLessThan(INTERVAL);
    // No missed interval: the update due one interval after the last one is the new leader's first,
    // posted at its first look after it fell due (how soon that look comes is the OS's scheduling).
    expect(firstAfter.dueMs).toBe(lastDue + INTERVAL);
    expect(firstAfter.lookAt).toBeGreaterThanOrEqual(firstAfter.dueMs as number);
    expect(firstAfter.previousLookAt).toBeLessThan(firstAfter.dueMs as number);
    const seqs = posts(events).map((p) => p.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    console.log(
      `takeover ${takeover.at - killedAt} ms after SIGKILL; first post by the new leader ${firstAfter.at - (firstAfter.dueMs as number)} ms after due`,
    );
    follower.kill("SIGTERM");
  });

  it("even without the lease (both replicas acting), every update is posted exactly once", async () => {
    const INTERVAL = 300;
    const watchId = await newWatch(INTERVAL, 100);
    const events: Event[] = [];
    const env = {
      WATCH_ID: watchId,
      INTERVAL_MS: String(INTERVAL),
      TTL_MS: "600",
      EVERY_MS: "150",
      IGNORE_LEASE: "1",
    };
    replica(env, events);
    replica(env, events);
    await until(() => posts(events).length >= 12, 20_000, "twelve posts");
    const seqs = posts(events).map((p) => p.seq as number);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs.map((_, i) => i + 1));
    expect(events.filter((e) => e.event === "error")).toEqual([]);
    const perReplica = new Map<number, number>();
    for (const p of posts(events)) perReplica.set(p.pid, (perReplica.get(p.pid) ?? 0) + 1);
    console.log(`posts per replica: ${[...perReplica.values()].join(" + ")}`);
  });
});
