import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from "@slack/bolt";
import * as z from "zod";
import { TICKET_FORM_CALLBACK } from "../../../cards/approval.js";
import { requestAction } from "../../../changes/approval.js";
import { ACTIONS, reasonProblem, requestSchema, ticketProblem } from "../../../changes/request.js";
import type { Config } from "../../../config.js";
import { describeError } from "../../../errors.js";
import type { RunnerPool } from "../../../relay/collect.js";
import type { Store } from "../../../store/store.js";
import { type AccessChecker, interactiveAsker, payloadTeams, payloadUser } from "../../access.js";
import { slackChat } from "../../chat.js";
import { commandContext } from "../../context.js";
import { channelId, userId } from "../../ids.js";
import { postToResponseUrl } from "../../response-url.js";

/** What the form carried; it comes back through Slack, so it is checked again like any input. */
const stateSchema = z.object({
  action: z.enum(ACTIONS),
  relay: z.string().max(64),
  words: z.array(z.string().max(300)).max(500),
  reason: z.string().max(300),
  batch: z
    .object({ size: z.number().int().min(1).max(99_999), pauseMs: z.number().int().min(0).max(600_000) })
    .optional(),
  userId,
  channelId,
  responseUrl: z
    .url({ protocol: /^https?$/ })
    .max(500)
    .optional(),
});

const inputValue = z
  .object({ value: z.object({ value: z.string().max(2000).nullable().optional() }) })
  .optional();

const submissionSchema = z.object({
  user: payloadUser,
  ...payloadTeams,
  view: z.object({
    callback_id: z.literal(TICKET_FORM_CALLBACK),
    private_metadata: z.string().max(3000),
    state: z.object({ values: z.object({ ticket: inputValue, reason: inputValue }) }),
  }),
});

export interface TicketFormDeps {
  config: Config;
  pool: RunnerPool;
  store: Store;
  nowMs: () => number;
  access: AccessChecker;
}

/** The ticket form: a queue change typed without --ticket asks for one here, then goes on as typed. */
export function ticketForm(deps: TicketFormDeps) {
  return async ({ ack, body, client, logger }: SlackViewMiddlewareArgs & AllMiddlewareArgs) => {
    const p = submissionSchema.safeParse(body);
    let state: z.infer<typeof stateSchema> | undefined;
    if (p.success) {
      try {
        const s = stateSchema.safeParse(JSON.parse(p.data.view.private_metadata));
        if (s.success) state = s.data;
      } catch {
        state = undefined;
      }
    }
    if (!p.success || !state || state.userId !== p.data.user.id) {
      logger.warn("refused a malformed ticket form submission");
      await ack({
        response_action: "errors",
        errors: { ticket: "This form could not be read; close it and type the command again with --ticket." },
      });
      return;
    }
    const refused = await deps.access.refusal(
      interactiveAsker(p.data, state.channelId),
      "request",
      `/mailq ${state.action}`,
      state.relay,
    );
    if (refused) {
      await ack({ response_action: "errors", errors: { ticket: refused.slice(0, 300) } });
      return;
    }
    const values = p.data.view.state.values;
    const ticket = (values.ticket?.value.value ?? "").trim();
    const reason = (values.reason?.value.value ?? "").trim();
    const errors: Record<string, string> = {};
    const tp = ticketProblem(ticket, deps.config.tickets.pattern);
    if (tp) errors.ticket = tp;
    const rp = reasonProblem(reason);
    if (rp) errors.reason = rp;
    const words = [
      state.relay,
      ...state.words,
      "--ticket",
      ticket,
      ...(reason ? ["--reason", reason] : []),
      ...(state.batch
        ? ["--batch", String(state.batch.size), "--pause", `${Math.round(state.batch.pauseMs / 1000)}s`]
        : []),
    ];
    const parsed = Object.keys(errors).length
      ? undefined
      : requestSchema(state.action, deps.config).safeParse(words);
    if (parsed && !parsed.success)
      errors.ticket = parsed.error.issues
        .map((i) => i.message)
        .join("; ")
        .slice(0, 300);
    if (!parsed?.success || parsed.data.ticket === undefined) {
      await ack({ response_action: "errors", errors });
      return;
    }
    await ack();
    const { channelId, responseUrl } = state;
    const who = p.data.user.id;
    const viaUrl = (m: Record<string, unknown>) =>
      responseUrl ? postToResponseUrl(responseUrl, m) : Promise.reject(new Error("no response URL"));
    // The card goes where the command's own cards go: the channel, else the command's response URL.
    const chat = slackChat(client);
    const ctx = commandContext(deps, {
      chat,
      userId: who,
      channelId,
      whisper: (text) => viaUrl({ response_type: "ephemeral", text }),
      ...(responseUrl
        ? {
            postViaResponseUrl: (card: { text: string; blocks: unknown[] }) =>
              viaUrl({ response_type: "in_channel", text: card.text, blocks: card.blocks }),
          }
        : {}),
    });
    let message: string;
    try {
      message = (
        await requestAction(
          { ...parsed.data, ticket: parsed.data.ticket },
          { userId: who, channelId },
          { ...deps, slack: { ...chat, post: (_c, card) => ctx.post(card) } },
        )
      ).message;
    } catch (e) {
      message = `\`/mailq ${state.action}\` failed: ${describeError(e)}`;
    }
    // Where the bot is not in the channel: through the command's response URL, else to the person directly.
    await chat
      .whisper(channelId, who, message)
      .catch(() => ctx.whisper(message))
      .catch(() => chat.post(who, { text: message, blocks: [] }))
      .catch((e) => {
        logger.warn(`could not tell ${who} the outcome of a ticket form: ${describeError(e)}`);
      });
  };
}
