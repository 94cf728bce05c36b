import { z } from "zod";
import { statusCard } from "../src/cards/status.js";
import { defineSubcommand } from "../src/chat/command.js";
import type { Config } from "../src/config.js";
import { mailqMetrics, recordSnapshot } from "../src/metrics/mailq.js";
import { collectAllProgressive, collectOptions, selectRelays } from "../src/relay/collect.js";
import { reputationWarnings } from "../src/relay/reputation.js";
import { recordSnapshots } from "../src/watch/record.js";

export function relayArg(config: Config) {
  const names = config.relays.map((r) => r.name);
  return z
    .string()
    .refine((n) => names.includes(n), { message: `unknown relay; known relays: ${names.join(", ")}` });
}

export const status = defineSubcommand<{ relay?: string | undefined }>({
  name: "status",
  summary: "Queue counts, top deferral reasons, destinations, spool and service health (read-only)",
  access: "view",
  usage: "/mailq status [relay]",
  examples: ["/mailq status", "/mailq status relay-a"],
  schema: (config) =>
    z
      .array(z.string())
      .max(1, "status takes at most one relay name")
      .transform(([relay]): { relay?: string } => (relay === undefined ? {} : { relay }))
      .pipe(z.object({ relay: relayArg(config).optional() })),
  ackText: (a, config) =>
    `Probing ${a.relay ?? (config.relays.length === 1 ? config.relays[0]?.name : `${config.relays.length} relays`)} (read-only)…`,
  async run(args, ctx) {
    const relays = selectRelays(ctx.config, args.relay);
    const listed = reputationWarnings(relays, ctx.pool, ctx.config, ctx.nowMs);
    const { first, full } = await collectAllProgressive(
      relays,
      ctx.pool,
      collectOptions(ctx.config, ctx.nowMs),
    );
    // With a full answer to come, its probe failures are counted once, from the full snapshots.
    for (const s of first) recordSnapshot(mailqMetrics, s, { countFailures: !full });
    const progress = full ? undefined : await recordSnapshots(ctx.store, first, ctx.nowMs());
    const warnings = await listed;
    const ts = await ctx.post(statusCard(first, { nowMs: ctx.nowMs(), progress, warnings }));
    if (!full) return;
    // A huge queue: the card above is partial; replace it in place once the listing is done.
    const done = await full;
    for (const s of done) recordSnapshot(mailqMetrics, s);
    const card = statusCard(done, {
      nowMs: ctx.nowMs(),
      progress: await recordSnapshots(ctx.store, done, ctx.nowMs()),
      warnings,
    });
    if (ts) await ctx.update(ts, card);
    else await ctx.post(card);
  },
});
