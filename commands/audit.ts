import * as z from "zod";
import { auditText } from "../src/cards/audit.js";
import { defineSubcommand } from "../src/chat/command.js";

export const audit = defineSubcommand<{ filter?: string }>({
  name: "audit",
  summary: "The latest audit entries, of a ticket or a relay",
  access: "view",
  usage: "/mailq audit [ticket|relay]",
  examples: ["/mailq audit INC-1234", "/mailq audit relay-a"],
  schema: () =>
    z
      .array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "a ticket or relay name"))
      .max(1, "audit takes at most one ticket or relay")
      .transform(([filter]) => (filter === undefined ? {} : { filter })),
  ackText: () => "Reading the audit trail…",
  async run(a, ctx) {
    const isRelay = a.filter !== undefined && ctx.config.relays.some((r) => r.name === a.filter);
    const entries = await ctx.store.audit.list({
      limit: 15,
      ...(a.filter === undefined ? {} : isRelay ? { relay: a.filter } : { ticket: a.filter }),
    });
    // A ticket's trail reads as a story: request, approval, archive, delete, restore, in order.
    const ticket = a.filter !== undefined && !isRelay;
    await ctx.whisper(auditText(entries, a.filter, ticket ? "oldest" : "newest"));
  },
});
