import { ticketModal } from "../src/cards/approval.js";
import { type FlowDeps, requestAction } from "../src/changes/approval.js";
import {
  ACTIONS,
  type Action,
  type ActionRequest,
  requestSchema,
  selectorWords,
} from "../src/changes/request.js";
import { type Command, type CommandContext, defineSubcommand } from "../src/chat/command.js";

const SUMMARY: Record<Action, string> = {
  hold: "Put matching mail on hold (quarantine, not delete) — needs a ticket and a second approver",
  release: "Release held mail (in batches with --batch N --pause 30s) — needs a ticket and a second approver",
  requeue:
    "Requeue mail after a routing fix (postsuper -r; --batch N --pause 30s) — needs a ticket and a second approver",
  delete: "Delete mail, archived whole first — needs a ticket and a second approver; never ALL",
  retry: "Try a few named messages now (postqueue -i, at most 50) — needs a ticket and a second approver",
};

const EXAMPLES: Record<Action, string[]> = {
  hold: [
    '/mailq hold relay-a domain:spam.example --ticket INC-1234 --reason "compromised account"',
    "/mailq hold relay-a 3F1A61A0A1 4B2B72B1B2 --ticket INC-1234",
  ],
  release: ["/mailq release relay-a queue:hold domain:example.com --ticket INC-1234 --batch 200 --pause 30s"],
  requeue: ["/mailq requeue relay-a ALL --ticket INC-1234 --batch 500 --pause 1m"],
  delete: ['/mailq delete relay-a sender:loop@app.internal older:2h --ticket INC-1234 --reason "mail loop"'],
  retry: ["/mailq retry relay-a 3F1A61A0A1 --ticket INC-1234"],
};

const TICKET_FORM_ACK =
  "Not run yet: a ticket reference is required (--ticket ABC-123). Fill in the form that opened for the ticket and reason.";

/** What a request needs from a command's context; the card goes where the command's own cards go. */
export function flowDeps(ctx: CommandContext): FlowDeps {
  return {
    config: ctx.config,
    pool: ctx.pool,
    store: ctx.store,
    nowMs: ctx.nowMs,
    slack: {
      // The channel, else the command's response URL.
      post: (_channel, card) => ctx.post(card),
      update: (channel, ts, card) => ctx.chat.update(channel, ts, card),
      groupMembers: (group) => ctx.chat.groupMembers(group),
    },
  };
}

function actionCommand(action: Action): Command {
  const batch = action === "release" || action === "requeue" ? " [--batch N --pause 30s]" : "";
  return defineSubcommand<ActionRequest>({
    name: action,
    summary: SUMMARY[action],
    access: "request",
    usage: `/mailq ${action} <relay> <queue IDs | sender:ADDR domain:DOMAIN queue:NAME reason:TEXT older:2h${action === "hold" || action === "requeue" ? " | ALL" : ""}> --ticket REF [--reason "text"]${batch}`,
    examples: EXAMPLES[action],
    schema: (config) => requestSchema(action, config),
    ackText: (a) =>
      a.ticket === undefined
        ? TICKET_FORM_ACK
        : `Resolving ${a.action} on ${a.relay} to exact queue IDs (read-only)…`,
    async run(req, ctx) {
      if (req.ticket === undefined) {
        if (!ctx.openModal) {
          await ctx.whisper("A ticket reference is required: add --ticket ABC-123 and try again.");
          return;
        }
        await ctx.openModal(
          ticketModal(
            {
              action,
              relay: req.relay,
              words: selectorWords(req.selectors),
              reason: req.reason,
              ...(req.batch ? { batch: req.batch } : {}),
              userId: ctx.userId,
              channelId: ctx.channelId,
              ...(ctx.responseUrl ? { responseUrl: ctx.responseUrl } : {}),
            },
            ctx.config.tickets.pattern,
          ),
        );
        return;
      }
      const out = await requestAction(
        { ...req, ticket: req.ticket },
        { userId: ctx.userId, channelId: ctx.channelId },
        flowDeps(ctx),
      );
      await ctx.whisper(out.message);
    },
  });
}

export const changeCommands = ACTIONS.map(actionCommand);
