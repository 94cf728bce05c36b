import * as z from "zod";
import { esc } from "../src/cards/format.js";
import { defineSubcommand } from "../src/chat/command.js";
import { parsePostcat, postcatFields } from "../src/parsers/postcat.js";
import { QUEUE_ID_RE } from "../src/parsers/postqueue.js";
import { postcat } from "../src/relay/queue-commands.js";
import { relayArg } from "./status.js";

/** Envelope and selected headers of one message, for the asker only, audited. */
export const inspect = defineSubcommand<{ relay: string; queueId: string }>({
  name: "inspect",
  summary: "Envelope and selected headers of one queued message, shown only to you (audited)",
  access: "inspect",
  usage: "/mailq inspect <relay> <queue-id>",
  examples: ["/mailq inspect relay-a 3F1A61A0A1"],
  schema: (config) =>
    z
      .array(z.string())
      .length(2, "inspect takes a relay and one queue ID")
      .transform(([relay, queueId]) => ({ relay: relay ?? "", queueId: queueId ?? "" }))
      .pipe(
        z.object({
          relay: relayArg(config),
          queueId: z.string().regex(QUEUE_ID_RE, "a queue ID (letters and digits)"),
        }),
      ),
  ackText: (a) => `Reading ${a.queueId} on ${a.relay} (read-only, only you will see it)…`,
  async run(a, ctx) {
    const relay = ctx.config.relays.find((r) => r.name === a.relay);
    if (!relay) return;
    // Every read is audited: who, which ID, and what came of it (a failed read too).
    const record = (detail: Record<string, unknown>) =>
      ctx.store.audit.append({
        atMs: ctx.nowMs(),
        kind: "inspect",
        actor: ctx.userId,
        relay: a.relay,
        ticket: null,
        requestId: null,
        detail: { queueId: a.queueId, channel: ctx.channelId, ...detail },
      });
    let head = "";
    try {
      const runner = await ctx.pool.get(relay, ctx.config.probes.timeout);
      await postcat(
        { runner, sudo: relay.sudo, deadlineMs: ctx.nowMs() + ctx.config.probes.timeout, nowMs: ctx.nowMs },
        a.queueId,
        (c) => {
          if (head.length < 65_536) head += c.toString("utf8");
        },
      );
    } catch (e) {
      await record({ error: (e as Error).message.slice(0, 300) });
      await ctx.whisper(
        `${a.relay}: could not read ${a.queueId}: ${(e as Error).message}. It may have been delivered or removed; check \`/mailq status ${a.relay}\`.`,
      );
      return;
    }
    const env = postcatFields(parsePostcat(head));
    await record({ queue: env.queue ?? null, fields: Object.keys(env) });
    const lines = Object.entries(env).map(([k, v]) => `*${k}*: ${esc(v)}`);
    // Ephemeral, to an inspector only: the one answer that shows an envelope.
    await ctx.whisper(`*${a.queueId}* on ${a.relay}\n${lines.join("\n") || "(no envelope records found)"}`);
  },
});
