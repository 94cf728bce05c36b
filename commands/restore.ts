import { requestRestore } from "../src/changes/approval.js";
import { type RestoreRequest, restoreSchema } from "../src/changes/restore.js";
import { defineSubcommand } from "../src/chat/command.js";
import { flowDeps } from "./changes.js";

export const restore = defineSubcommand<RestoreRequest>({
  name: "restore",
  summary:
    "Put deleted mail back from the archive, with its original envelope — needs a ticket and a second approver",
  access: "request",
  usage:
    '/mailq restore <relay> <ticket:REF request:ID sender:ADDR domain:DOMAIN after:TIME before:TIME | original queue IDs> --ticket REF [--reason "text"]',
  examples: [
    '/mailq restore relay-a ticket:INC-1234 domain:invoices.example --ticket INC-1240 --reason "deleted by mistake"',
    "/mailq restore relay-a ticket:INC-1234 after:2026-11-27T18:00Z --ticket INC-1240",
  ],
  schema: (config) => restoreSchema(config),
  ackText: (a) => `Resolving the restore on ${a.relay} to exact archived messages (read-only)…`,
  async run(req, ctx) {
    const out = await requestRestore(req, { userId: ctx.userId, channelId: ctx.channelId }, flowDeps(ctx));
    await ctx.whisper(out.message);
  },
});
