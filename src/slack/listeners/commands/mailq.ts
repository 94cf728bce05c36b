import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import { MailqError } from "../../../errors.js";
import type { Asker } from "../../access.js";
import { isModalView } from "../../blocks.js";
import { slackChat } from "../../chat.js";
import type { CommandDeps } from "../../context.js";
import { dispatch } from "../../dispatch.js";

/** `/mailq …`: ack at once (with the error, if any, only for the asker), then run. */
export function mailqCommand(deps: CommandDeps) {
  return async ({
    command,
    ack,
    respond,
    client,
    logger,
  }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const who: Asker = {
      userId: command.user_id,
      channelId: command.channel_id,
      teamId: command.team_id,
      enterpriseId: command.enterprise_id,
      userTeamId: typeof command.user_team_id === "string" ? command.user_team_id : undefined,
    };
    const whisper = async (text: string) => {
      await respond({ response_type: "ephemeral", text });
    };
    await dispatch(
      deps,
      who,
      { text: command.text ?? "" },
      {
        chat: slackChat(client),
        responseUrl: command.response_url,
        // The bot is not in every channel; the response URL works anywhere the command was typed.
        postViaResponseUrl: async (card) => {
          await respond({ response_type: "in_channel", text: card.text, blocks: card.blocks });
        },
        whisper,
        // A trigger_id is valid for 3 s: open before anything slow runs.
        openModal: async (view) => {
          if (!isModalView(view)) throw new MailqError("SLACK_API", "the form is not a Slack modal (a bug)");
          await client.views.open({ trigger_id: command.trigger_id, view });
        },
      },
      {
        ack: (text) => ack({ response_type: "ephemeral", text }),
        failed: whisper,
        logger,
      },
    );
  };
}
