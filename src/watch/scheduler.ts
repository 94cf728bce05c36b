import { randomUUID } from "node:crypto";
import type { RelaySnapshot } from "../analysis/snapshot.js";
import { type DepthPoint, depthChart } from "../cards/chart.js";
import type { Card } from "../cards/status.js";
import { endText, type WatchEnd, watchHeaderCard, watchUpdateCard } from "../cards/watch-update.js";
import type { Chat } from "../chat/port.js";
import { notPostable } from "../chat/port.js";
import type { Config, RelayConfig } from "../config.js";
import { MailqError } from "../errors.js";
import type { Store, Watch } from "../store/store.js";
import { Pacer } from "./pacer.js";
import { recordSnapshots } from "./record.js";
import { nextDue } from "./rules.js";
import { watchUpdate } from "./update.js";

/** The slice of the chat the watches use. */
export type WatchChat = Pick<Chat, "post" | "update" | "upload">;

export interface SchedulerDeps {
  store: Store;
  config: Config;
  /** Runs the read-only probes; injected so the schedule can be tested with a fake clock. */
  collect: (relays: RelayConfig[]) => Promise<RelaySnapshot[]>;
  chat: WatchChat;
  nowMs: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Only the replica holding the scheduler lease posts; always true for one process. */
  isLeader?: () => boolean;
  tickMs?: number;
  onError?: (e: unknown) => void;
}

/** What whileActive returns when the watch ended before its turn. */
const DISCARDED = Symbol("discarded");

/**
 * Watches live in the store: when each is due, how many updates went out, whether it ended.
 * Every tick derives what to do from there, so a restart neither repeats nor skips an update
 * (each update number is claimed once, across processes).
 */
export class WatchScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly pacer: Pacer;
  /** Updates this process has claimed and not finished (watch id:seq). */
  private readonly mine = new Set<string>();
  private stopped = true;

  constructor(private readonly d: SchedulerDeps) {
    this.pacer = new Pacer(d.nowMs, d.sleep);
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((e) => this.d.onError?.(e))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.d.tickMs ?? 5000);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private relaysOf(w: Pick<Watch, "relay">): RelayConfig[] {
    return w.relay === null ? this.d.config.relays : this.d.config.relays.filter((r) => r.name === w.relay);
  }

  private post(channel: string, card: Card, threadTs?: string) {
    return this.pacer.run(channel, () => this.d.chat.post(channel, card, threadTs));
  }

  /**
   * Runs fn in the channel's turn only if the watch is still active then: a stop that landed
   * while an update was collected or waiting for its turn discards it, so nothing follows
   * "ended" (the stop's own messages queue behind anything already past this check).
   */
  private whileActive<T>(
    w: Pick<Watch, "id" | "channelId">,
    fn: () => Promise<T>,
  ): Promise<T | typeof DISCARDED> {
    return this.pacer.run(w.channelId, async () => {
      const now = await this.d.store.watches.get(w.id);
      return now?.status === "active" ? fn() : DISCARDED;
    });
  }

  async startWatch(o: {
    relay: string | null;
    channelId: string;
    userId: string;
    intervalMs: number;
  }): Promise<Watch> {
    const now = this.d.nowMs();
    const existing = (await this.d.store.watches.active()).find(
      (w) => w.channelId === o.channelId && w.relay === o.relay,
    );
    if (existing) return existing;
    const snaps = await this.d.collect(this.relaysOf(o));
    await recordSnapshots(this.d.store, snaps, now);
    const draft: Watch = {
      id: randomUUID(),
      relay: o.relay,
      channelId: o.channelId,
      messageTs: null,
      createdBy: o.userId,
      intervalMs: o.intervalMs,
      startedAtMs: now,
      nextDueMs: now + o.intervalMs,
      updates: 0,
      drainedStreak: 0,
      status: "active",
      stopReason: null,
      version: 0,
    };
    let ts: string | undefined;
    try {
      ts = await this.post(o.channelId, watchHeaderCard(draft, snaps, now));
    } catch (e) {
      const code = notPostable(e);
      if (code === undefined) throw e;
      throw new MailqError(
        "SLACK_API",
        `The bot cannot post in <#${o.channelId}> (${code}), so a watch there could not post its updates; no watch was started`,
        { hint: "Invite the bot to the channel (/invite @mailq-bot) and start the watch again" },
      );
    }
    const w = await this.d.store.watches.create({ ...draft, messageTs: ts ?? null });
    await this.d.store.audit.append({
      atMs: now,
      kind: "watch-start",
      actor: o.userId,
      relay: o.relay,
      ticket: null,
      requestId: w.id,
      detail: { channelId: o.channelId, intervalMs: o.intervalMs },
    });
    return w;
  }

  /** Stops the channel's watches (of one relay, or all); returns those stopped. */
  async stopWatches(o: { channelId: string; relay: string | null | "*"; userId: string }): Promise<Watch[]> {
    const stopped: Watch[] = [];
    for (const found of await this.d.store.watches.active()) {
      if (found.channelId !== o.channelId || (o.relay !== "*" && found.relay !== o.relay)) continue;
      // An update may move the watch on between reading and stopping it: read again and retry.
      let w: Watch | undefined = found;
      for (let i = 0; i < 5 && w?.status === "active"; i++) {
        if (await this.end(w, "stopped", { reason: "stopped", by: o.userId })) {
          stopped.push(w);
          await this.d.store.audit.append({
            atMs: this.d.nowMs(),
            kind: "watch-stop",
            actor: o.userId,
            relay: w.relay,
            ticket: null,
            requestId: w.id,
            detail: { channelId: w.channelId, updates: w.updates },
          });
          break;
        }
        w = await this.d.store.watches.get(found.id);
      }
    }
    return stopped;
  }

  list(): Promise<Watch[]> {
    return this.d.store.watches.active();
  }

  /** Posts every update that is due. */
  async tick(): Promise<void> {
    if (this.d.isLeader && !this.d.isLeader()) return;
    const now = this.d.nowMs();
    for (const w of await this.d.store.watches.active()) {
      if (w.nextDueMs > now) continue;
      try {
        await this.update(w);
      } catch (e) {
        this.d.onError?.(e);
      }
    }
  }

  private async end(
    w: Watch,
    status: Watch["status"],
    ending: WatchEnd,
    last?: RelaySnapshot[],
    o: { quiet?: boolean } = {},
  ): Promise<boolean> {
    const stopReason = ending.by ? `${ending.reason} by <@${ending.by}>` : ending.reason;
    const ok = await this.d.store.watches.update(w.id, w.version, { status, stopReason });
    if (!ok) return false;
    if (w.messageTs && !o.quiet) {
      await this.othersSettled(w);
      const snaps = last ?? [];
      await this.pacer.run(w.channelId, () =>
        this.d.chat.update(
          w.channelId,
          w.messageTs as string,
          watchHeaderCard(w, snaps, this.d.nowMs(), ending),
        ),
      );
      await this.post(
        w.channelId,
        { text: `⏹ The watch ended: ${endText(ending)}.`, blocks: [] },
        w.messageTs,
      );
    }
    return true;
  }

  /** A claim whose process died before posting is taken over once it is older than any run. */
  private staleAfterMs(): number {
    return this.d.config.probes.listingTimeout + this.d.config.probes.timeout + 60_000;
  }

  /**
   * Before a stop says "ended": an update another replica claimed and has not settled yet may be
   * past its last "still active?" check, so its post could land after "ended". Wait until that
   * claim is settled (posted, or dropped and recorded so) or stale. This process's own updates
   * need no wait: they check in the channel's turn, ahead of the stop's messages.
   */
  private async othersSettled(w: Pick<Watch, "id">): Promise<void> {
    const until = this.d.nowMs() + this.staleAfterMs();
    for (;;) {
      const now = this.d.nowMs();
      const open = (await this.d.store.watches.updateLog(w.id)).some(
        (u) => !u.posted && now - u.claimedAtMs < this.staleAfterMs() && !this.mine.has(`${w.id}:${u.seq}`),
      );
      if (!open || now >= until) return;
      await this.d.sleep(250);
    }
  }

  private async update(w: Watch): Promise<void> {
    const key = `${w.id}:${w.updates + 1}`;
    this.mine.add(key);
    try {
      await this.updateClaimed(w);
    } finally {
      this.mine.delete(key);
    }
  }

  private async updateClaimed(w: Watch): Promise<void> {
    const seq = w.updates + 1;
    const now = this.d.nowMs();
    const staleAfterMs = this.staleAfterMs();
    if (!(await this.d.store.watches.claimUpdate(w.id, seq, w.nextDueMs, now, staleAfterMs))) {
      // Posted by a process that stopped before moving the watch on: move it on, post nothing again.
      const log = await this.d.store.watches.updateLog(w.id);
      if (log.some((u) => u.seq === seq && u.posted))
        await this.d.store.watches.update(w.id, w.version, {
          updates: seq,
          nextDueMs: nextDue(w.nextDueMs, w.intervalMs, now),
        });
      return;
    }
    const log = await this.d.store.watches.updateLog(w.id);
    const lastUpdateAtMs = log.find((u) => u.seq === seq - 1)?.claimedAtMs ?? w.startedAtMs;
    const snaps = await this.d.collect(this.relaysOf(w));
    const { relays, streak, ending } = await watchUpdate(
      this.d.store,
      snaps,
      { seq, startedAtMs: w.startedAtMs, lastUpdateAtMs, nowMs: now, streak: w.drainedStreak },
      this.d.config.watch,
    );
    const thread = w.messageTs ?? undefined;
    let posted: string | undefined | typeof DISCARDED;
    try {
      posted = await this.whileActive(w, () =>
        this.d.chat.post(w.channelId, watchUpdateCard(w, seq, relays, now), thread),
      );
    } catch (e) {
      const code = notPostable(e);
      if (code === undefined) throw e;
      // Removed from the channel, or it was archived: no update can ever go out there.
      const reason = `the bot can no longer post in the channel (${code})`;
      if (await this.end(w, "stopped", { reason }, undefined, { quiet: true }))
        await this.d.store.audit.append({
          atMs: now,
          kind: "watch-stop",
          actor: "mailq-bot",
          relay: w.relay,
          ticket: null,
          requestId: w.id,
          detail: { channelId: w.channelId, updates: w.updates, reason },
        });
      return;
    }
    // Stopped while this update was collected: it is dropped, never posted after "ended". The
    // claim is settled with nothing posted, so a stop on another replica need not wait for it.
    if (posted === DISCARDED) {
      await this.d.store.watches.recordPosted(w.id, seq, null);
      return;
    }
    await this.d.store.watches.recordPosted(w.id, seq, posted ?? null);

    const nextDueMs = nextDue(w.nextDueMs, w.intervalMs, now);
    // The watch moves on before the extras below: a crash during them costs a chart, not a repeat.
    const updated = await this.d.store.watches.update(w.id, w.version, {
      updates: seq,
      nextDueMs,
      drainedStreak: streak,
    });
    // Stopped meanwhile (the header now says so): nothing more to add.
    if (!updated) return;
    if (thread) {
      const points =
        relays.length === 1 ? (relays[0]?.series ?? []) : mergeSeries(relays.map((r) => r.series));
      await this.whileActive(w, () =>
        this.d.chat.upload(w.channelId, thread, {
          filename: `queue-depth-${seq}.png`,
          title: `Queue depth since the start (update ${seq})`,
          data: depthChart(points),
        }),
      ).catch((e) => this.d.onError?.(e));
      const state = { ...w, updates: seq, nextDueMs };
      await this.whileActive(w, () =>
        this.d.chat.update(w.channelId, thread, watchHeaderCard(state, snaps, now)),
      ).catch((e) => this.d.onError?.(e));
    }
    if (ending) {
      const fresh = (await this.d.store.watches.get(w.id)) as Watch;
      await this.end(fresh, ending.status, { reason: ending.reason }, snaps);
    }
  }
}

/** Several relays' series summed per queue at each relay's sample times (nearest earlier). */
function mergeSeries(all: DepthPoint[][]): DepthPoint[] {
  const times = [...new Set(all.flatMap((s) => s.map((p) => p.atMs)))].sort((a, b) => a - b);
  return times.map((t) => {
    const queues = { maildrop: 0, incoming: 0, active: 0, deferred: 0, hold: 0 };
    for (const s of all) {
      const p = [...s].reverse().find((x) => x.atMs <= t);
      if (p) for (const q of Object.keys(queues) as (keyof typeof queues)[]) queues[q] += p.queues[q];
    }
    return { atMs: t, queues };
  });
}
