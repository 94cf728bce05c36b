import * as z from "zod";
import { statusCard } from "../src/cards/status.js";
import { defineSubcommand } from "../src/chat/command.js";
import type { Config } from "../src/config.js";
import { mailqMetrics, recordSnapshot } from "../src/metrics/mailq.js";
import { runStatus, type StatusAnswer } from "../src/usecases/status.js";

export function relayArg(config: Config) {
  const names = config.relays.map((r) => r.name);
  return z
    .string()
    .refine((n) => names.includes(n), { message: `unknown relay; known relays: ${names.join(", ")}` });
}

/** How often a partial status card is redrawn while the listing runs. */
const CARD_UPDATE_MS = 5000;

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
    const cardOf = (a: StatusAnswer) =>
      statusCard(a.snapshots, { nowMs: ctx.nowMs(), progress: a.progress, warnings: a.warnings });
    let ts: string | undefined;
    await runStatus(
      ctx,
      {
        relay: args.relay,
        // With a full answer to come, its probe failures are counted once, from the full snapshots.
        observe: (snaps, final) => {
          for (const s of snaps) recordSnapshot(mailqMetrics, s, { countFailures: final });
        },
      },
      {
        first: async (a) => {
          ts = await ctx.post(cardOf(a));
        },
        // A huge queue: the card above is partial; it is redrawn in place as the listing proceeds
        // (one chat.update per card every 5 s, well within Slack's tier 3) and completed at the end.
        progress: {
          everyMs: CARD_UPDATE_MS,
          show: async (a) => {
            // A redraw that fails is not worth failing the command over: the complete card follows.
            if (ts) await ctx.update(ts, cardOf(a)).catch(() => {});
          },
        },
        full: async (a) => {
          const card = cardOf(a);
          if (ts) await ctx.update(ts, card);
          else await ctx.post(card);
        },
      },
    );
  },
});
