import type { App } from "@slack/bolt";
import { z } from "zod";
import { TRIAGE_ACTIONS } from "../../cards/triage.js";
import type { Config } from "../../config.js";
import { describeError } from "../../errors.js";
import { QUEUE_ID_RE } from "../../parsers/postqueue.js";
import { interactiveAsker, payloadTeams, payloadUser } from "../access.js";
import { type CommandDeps, commandContext, type SlackClient } from "../subcommand.js";

const valueSchema = (config: Config) =>
  z
    .string()
    .max(500)
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "not JSON" });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .object({
          relay: z
            .string()
            .refine((n) => config.relays.some((r) => r.name === n), { message: "unknown relay" }),
          queueId: z.string().regex(QUEUE_ID_RE).optional(),
        })
        .strict(),
    );

const pressSchema = (config: Config) =>
  z.object({
    user: payloadUser,
    ...payloadTeams,
    channel: z.object({ id: z.string().regex(/^[CGD][A-Z0-9]{2,}$/) }),
    actions: z
      .array(
        z.object({
          action_id: z.enum([TRIAGE_ACTIONS.status, TRIAGE_ACTIONS.inspect, TRIAGE_ACTIONS.watch]),
          value: valueSchema(config),
        }),
      )
      .length(1),
  });

export type TriageActionDeps = CommandDeps;

/**
 * The buttons under a triage card. Each starts the natural next read-only step by running the
 * same subcommand a person would type, with arguments that go through that subcommand's own
 * schema: status of the relay, inspect the sample message (envelope, only for the presser),
 * start a watch. None of them changes anything on a relay.
 */
export function register(app: App, deps: TriageActionDeps): void {
  const ids = Object.values(TRIAGE_ACTIONS).join("|");
  app.action(new RegExp(`^(?:${ids})$`), async ({ ack, body, client, logger, respond }) => {
    await ack();
    const p = pressSchema(deps.config).safeParse(body);
    if (!p.success) {
      logger.warn(
        `ignored a malformed triage button press: ${p.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join(", ")}`,
      );
      return;
    }
    const { user, channel, actions } = p.data;
    const press = actions[0] as (typeof actions)[number];
    const { relay, queueId } = press.value;
    const whisper = async (text: string) => {
      await client.chat.postEphemeral({ channel: channel.id, user: user.id, text }).catch(() => {});
    };
    const ctx = commandContext(deps, {
      client: client as unknown as SlackClient,
      userId: user.id,
      channelId: channel.id,
      whisper,
      // As for `/mailq`: where the bot is not in the channel, the press's response URL still posts.
      postViaResponseUrl: async (card) => {
        await respond({
          response_type: "in_channel",
          replace_original: false,
          text: card.text,
          blocks: card.blocks as never,
        });
      },
    });
    const words =
      press.action_id === TRIAGE_ACTIONS.status
        ? ["status", relay]
        : press.action_id === TRIAGE_ACTIONS.inspect
          ? ["inspect", relay, queueId ?? ""]
          : ["watch", "start", relay];
    const [name, ...args] = words as [string, ...string[]];
    const sub = deps.subcommands.find((s) => s.name === name);
    const refused = await deps.access.refusal(
      interactiveAsker(p.data, channel.id),
      sub?.access ?? "view",
      `/mailq ${words.join(" ")}`,
      relay,
    );
    if (refused) {
      await whisper(refused);
      return;
    }
    if (!sub) {
      await whisper(
        name === "watch"
          ? `Watches are not available in this bot yet; run \`/mailq status ${relay}\` again in 15 minutes to compare.`
          : `\`/mailq ${name}\` is not available in this bot; the sample message is ${queueId ?? "unknown"} on ${relay}.`,
      );
      return;
    }
    const parsed = sub.schema(deps.config).safeParse(args);
    if (!parsed.success) {
      await whisper(
        `That button could not start \`/mailq ${words.join(" ")}\`: ${parsed.error.issues[0]?.message ?? "invalid"}`,
      );
      return;
    }
    await whisper(sub.ackText(parsed.data as never, deps.config));
    try {
      await sub.run(parsed.data as never, ctx);
    } catch (e) {
      logger.error(`triage button ${press.action_id} on ${relay} failed: ${describeError(e)}`);
      await whisper(`\`/mailq ${words.join(" ")}\` failed on ${relay}: ${describeError(e)}`);
    }
  });
}
