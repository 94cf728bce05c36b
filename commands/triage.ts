import * as z from "zod";
import { triageCard } from "../src/cards/triage.js";
import { defineSubcommand } from "../src/chat/command.js";
import { runTriage } from "../src/usecases/triage.js";
import { relayArg } from "./status.js";

export const triage = defineSubcommand<{ relay?: string }>({
  name: "triage",
  summary: "The first-ten-minutes checklist: findings by cause, with evidence and the safe lever (read-only)",
  access: "view",
  usage: "/mailq triage [relay]",
  examples: ["/mailq triage", "/mailq triage relay-a"],
  schema: (config) =>
    z
      .array(z.string())
      .max(1, "triage takes at most one relay name")
      .transform(([relay]): { relay?: string } => (relay === undefined ? {} : { relay }))
      .pipe(z.object({ relay: relayArg(config).optional() })),
  ackText: (a) => `Running the first-ten-minutes checklist on ${a.relay ?? "every relay"} (read-only)…`,
  async run(a, ctx) {
    await ctx.post(triageCard(await runTriage(ctx, a.relay)));
  },
});
