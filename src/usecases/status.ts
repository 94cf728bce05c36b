import type { Movement } from "../analysis/delta.js";
import type { RelaySnapshot } from "../analysis/snapshot.js";
import type { Config } from "../config.js";
import {
  type CollectOptions,
  collectAllProgressive,
  collectOptions,
  type RunnerPool,
  selectRelays,
} from "../relay/collect.js";
import { reputationWarnings } from "../relay/reputation.js";
import type { Store } from "../store/store.js";
import { recordSnapshots } from "../watch/record.js";
import { whileListing } from "./while-listing.js";

export interface StatusDeps {
  config: Config;
  pool: RunnerPool;
  store: Store;
  nowMs: () => number;
}

/** One answer to "how are the queues": the snapshots, how each moved, and blocklist warnings. */
export interface StatusAnswer {
  snapshots: RelaySnapshot[];
  progress: Map<string, Movement>;
  warnings: Map<string, string>;
}

export interface StatusOptions {
  relay?: string | undefined;
  /** Look the relays' addresses up on the blocklists (the JSON document has no place for them). */
  warnings?: boolean;
  /** Wait for every listing to finish before the first answer. */
  waitFull?: boolean;
  onListing?: CollectOptions["onListing"];
  /** Every set of snapshots as taken; `final` is false for a first answer with a full one to come. */
  observe?(snapshots: RelaySnapshot[], final: boolean): void;
}

/** Where the answers go: the chat's card, or the terminal. */
export interface StatusShow {
  /** The first answer; `more` when a huge queue's listing is still running. */
  first(a: StatusAnswer, more: boolean): Promise<void>;
  /** The complete answer after a partial first one; absent: the first answer is the only one. */
  full?(a: StatusAnswer): Promise<void>;
  /** While a partial answer's listing runs: the answer as it stands, every `everyMs`. */
  progress?: { everyMs: number; show(a: StatusAnswer): Promise<void> };
}

/** Each relay's queue directory as its last stored snapshot found it (the first card's counts start with it). */
export async function rememberedQueueDirectories(
  store: Store,
  relays: string[],
): Promise<Map<string, string>> {
  // One lookup per relay, at once: with PostgreSQL, fifty relays in a row would delay every probe.
  const paths = await Promise.all(
    relays.map(
      async (relay) => [relay, (await store.snapshots.latest(relay, 1))[0]?.snapshot.disk?.path] as const,
    ),
  );
  return new Map(paths.filter((p): p is readonly [string, string] => !!p[1]));
}

/**
 * `status`, for the CLI and the chat alike: probe, store what is complete, answer at once, and
 * where a huge queue's listing is still running, answer again when it is done. Each complete
 * snapshot is stored once, so it is compared with the one before it, never with itself.
 */
export async function runStatus(deps: StatusDeps, o: StatusOptions, show: StatusShow): Promise<StatusAnswer> {
  const relays = selectRelays(deps.config, o.relay);
  const listed =
    o.warnings === false ? undefined : reputationWarnings(relays, deps.pool, deps.config, deps.nowMs);
  const opts = {
    ...collectOptions(deps.config, deps.nowMs),
    ...(o.onListing ? { onListing: o.onListing } : {}),
    ...(o.waitFull
      ? { firstAnswerMs: undefined }
      : {
          queueDirectories: await rememberedQueueDirectories(
            deps.store,
            relays.map((r) => r.name),
          ),
        }),
  };
  const { first, full, current } = await collectAllProgressive(relays, deps.pool, opts);
  o.observe?.(first, !full);
  const progress = await recordSnapshots(deps.store, first, deps.nowMs());
  const warnings = (await listed) ?? new Map<string, string>();
  const firstAnswer = { snapshots: first, progress, warnings };
  await show.first(firstAnswer, full !== null);
  if (!full || !show.full) return firstAnswer;
  const progressing = show.progress;
  if (progressing)
    await whileListing(full, progressing.everyMs, async () =>
      progressing.show({ snapshots: await current(), progress, warnings }),
    );
  const done = await full;
  o.observe?.(done, true);
  // The relays that answered in full at first are stored already.
  const fresh = done.filter((s) => !first.includes(s));
  const moved = await recordSnapshots(deps.store, fresh, deps.nowMs());
  const answer = { snapshots: done, progress: new Map([...progress, ...moved]), warnings };
  await show.full(answer);
  return answer;
}
