import type { App } from "@slack/bolt";
import type { Card } from "../../cards/status.js";
import type { Config } from "../../config.js";
import { describeError } from "../../errors.js";
import type { RunnerPool } from "../../relay/collect.js";
import type { Store } from "../../store/store.js";
import type { WatchScheduler } from "../../watch/scheduler.js";
import { route } from "../router.js";
import type { CommandContext, SlackClient, Subcommand } from "../subcommand.js";

export interface MailqDeps {
  config: Config;
  pool: RunnerPool;
  store: Store;
  watches?: WatchScheduler;
  nowMs: () => number;
  subcommands: Subcommand<never>[];
  command?: string;
}

const NOT_POSTABLE = new Set(["not_in_channel", "channel_not_found", "is_archived"]);

/** `/mailq …`: ack at once (with the error, if any, only for the asker), then run. */
export function register(app: App, deps: MailqDeps): void {
  app.command(deps.command ?? "/mailq", async ({ command, ack, respond, client, logger }) => {
    const routed = route(command.text ?? "", deps.subcommands, deps.config);
    if (!routed.ok) {
      await ack({ response_type: "ephemeral", text: routed.message });
      return;
    }
    await ack({
      response_type: "ephemeral",
      text: routed.command.ackText(routed.args as never, deps.config),
    });
    const ctx: CommandContext = {
      config: deps.config,
      pool: deps.pool,
      store: deps.store,
      ...(deps.watches ? { watches: deps.watches } : {}),
      client: client as unknown as SlackClient,
      nowMs: deps.nowMs,
      userId: command.user_id,
      channelId: command.channel_id,
      async post(card: Card) {
        try {
          await client.chat.postMessage({
            channel: command.channel_id,
            text: card.text,
            blocks: card.blocks as never,
          });
        } catch (e) {
          // The bot is not in every channel; the response URL works anywhere the command was typed.
          const code = (e as { data?: { error?: string } }).data?.error;
          if (!code || !NOT_POSTABLE.has(code)) throw e;
          await respond({ response_type: "in_channel", text: card.text, blocks: card.blocks as never });
          return undefined;
        }
      },
      async whisper(text: string) {
        await respond({ response_type: "ephemeral", text });
      },
      async openModal(view: Record<string, unknown>) {
        // A trigger_id is valid for 3 s: open before anything slow runs.
        await client.views.open({ trigger_id: command.trigger_id, view: view as never });
      },
    };
    try {
      await routed.command.run(routed.args as never, ctx);
    } catch (e) {
      logger.error(`/mailq ${routed.command.name} failed: ${describeError(e)}`);
      await respond({
        response_type: "ephemeral",
        text: `\`/mailq ${routed.command.name}\` failed: ${describeError(e)}`,
      }).catch(() => {});
    }
  });
}
