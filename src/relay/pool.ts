import { setMaxListeners } from "node:events";
import type { RelayConfig } from "../config.js";
import { LocalRunner } from "./local.js";
import type { CommandRunner } from "./runner.js";
import { Slots } from "./slots.js";

/** Opens a runner to one relay; tests pass their own to count what the pool opens. */
export type Connect = (relay: RelayConfig, timeoutMs: number, stop: AbortSignal) => Promise<CommandRunner>;

export interface PoolOptions {
  /** SSH connections open and in use at once (probes.maxConnections). */
  maxConnections?: number;
  connect?: Connect;
}

/** A runner lent for one relay's collection; give it back with release(). */
export interface Lease {
  runner: CommandRunner;
  release: () => void;
}

interface Entry {
  runner: Promise<CommandRunner>;
  /** Leases out now; an entry with none may be closed to make room. */
  users: number;
  /** Handed out by get(), which has no release: never closed to make room. */
  pinned: boolean;
}

/**
 * Keeps one connection per relay and reuses it while it stays up. Leases are bounded: at most
 * maxConnections relays are collected at once, and opening one more connection beyond that many
 * first closes an idle one, so a fleet of 50 relays never holds 50 connections.
 */
export class RunnerPool {
  private readonly entries = new Map<string, Entry>();
  private readonly slots: Slots;
  private readonly connect: Connect;
  /** Aborted by closeAll: connects still under way end then, not at their timeout. */
  private closing = stopSignal();
  readonly maxConnections: number;

  constructor(
    private readonly localEnv: NodeJS.ProcessEnv = process.env,
    private readonly compression = true,
    o: PoolOptions = {},
  ) {
    this.maxConnections = o.maxConnections ?? 16;
    this.slots = new Slots(this.maxConnections);
    this.connect =
      o.connect ??
      ((relay, timeoutMs, stop) =>
        relay.kind === "local"
          ? Promise.resolve(new LocalRunner(relay.name, this.localEnv))
          : // ssh2 loads here, not at start-up: commands that never connect (healthcheck, audit) skip it.
            import("./ssh.js").then(({ SshRunner }) =>
              SshRunner.connect(relay, timeoutMs, this.compression, stop),
            ));
  }

  /** A runner outside the bound (actions, triage's extra probes): kept open for reuse. */
  get(relay: RelayConfig, timeoutMs: number): Promise<CommandRunner> {
    const e = this.entry(relay, timeoutMs);
    e.pinned = true;
    return this.wrap(e.runner);
  }

  /** Waits for one of maxConnections slots, then lends the relay's runner. */
  async lease(relay: RelayConfig, timeoutMs: number): Promise<Lease> {
    const free = await this.slots.take();
    if (!this.entries.has(relay.name)) await this.makeRoom();
    const e = this.entry(relay, timeoutMs);
    e.users++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      e.users--;
      free();
    };
    try {
      return { runner: await this.wrap(e.runner), release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Subclasses wrap what a lease lends (metering). */
  protected wrap(r: Promise<CommandRunner>): Promise<CommandRunner> {
    return r;
  }

  private async makeRoom(): Promise<void> {
    for (const [name, e] of this.entries) {
      if (this.entries.size < this.maxConnections) return;
      if (e.users > 0 || e.pinned) continue;
      this.entries.delete(name);
      await e.runner.then(
        (r) => r.close(),
        () => {},
      );
    }
  }

  private entry(relay: RelayConfig, timeoutMs: number): Entry {
    const cached = this.entries.get(relay.name);
    if (cached) return cached;
    const runner = this.connect(relay, timeoutMs, this.closing.signal);
    const e: Entry = { runner, users: 0, pinned: false };
    this.entries.set(relay.name, e);
    const forget = () => {
      if (this.entries.get(relay.name) === e) this.entries.delete(relay.name);
    };
    // A dropped connection is forgotten at once, so that the next request reconnects.
    runner.then((r) => r.onClosed?.(forget), forget);
    return e;
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.closing.abort();
    this.closing = stopSignal();
    await Promise.all(
      all.map((e) =>
        e.runner.then(
          (r) => r.close(),
          () => {},
        ),
      ),
    );
  }
}

/** One listener per connect under way, a fleet's worth at once: no leak warning at 11. */
function stopSignal(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}
