import { requestAction } from "../src/actions/approval.js";
import { ACTIONS, type Action, type ActionRequest, requestSchema } from "../src/actions/request.js";
import { approvalSlack } from "../src/slack/approvals.js";
import { defineSubcommand, type Subcommand } from "../src/slack/subcommand.js";

const SUMMARY: Record<Action, string> = {
  hold: "Put matching mail on hold (quarantine, not delete) — needs a ticket and a second approver",
  release: "Release held mail — needs a ticket and a second approver",
  requeue: "Requeue mail after a routing fix (postsuper -r) — needs a ticket and a second approver",
  delete: "Delete mail, archived first — needs a ticket and a second approver; never ALL",
  retry: "Try named messages now (postqueue -i, capped) — needs a ticket and a second approver",
};

const EXAMPLE: Record<Action, string> = {
  hold: '/mailq hold relay-a domain:spam.example --ticket INC-1234 --reason "compromised account"',
  release: "/mailq release relay-a queue:hold domain:example.com --ticket INC-1234",
  requeue: "/mailq requeue relay-a ALL --ticket INC-1234",
  delete: "/mailq delete relay-a sender:loop@app.internal older:2h --ticket INC-1234",
  retry: "/mailq retry relay-a 3F1A61A0A1 --ticket INC-1234",
};

function actionCommand(action: Action): Subcommand<ActionRequest> {
  return defineSubcommand<ActionRequest>({
    name: action,
    summary: SUMMARY[action],
    usage: `/mailq ${action} <relay> <queue IDs | sender:ADDR domain:DOMAIN queue:NAME reason:TEXT older:2h${action === "hold" || action === "requeue" ? " | ALL" : ""}> --ticket REF [--reason "text"]`,
    examples: [EXAMPLE[action]],
    schema: (config) => requestSchema(action, config),
    ackText: (a) => `Resolving ${a.action} on ${a.relay} to exact queue IDs (read-only)…`,
    async run(req, ctx) {
      const out = await requestAction(
        req,
        { userId: ctx.userId, channelId: ctx.channelId },
        {
          config: ctx.config,
          pool: ctx.pool,
          store: ctx.store,
          nowMs: ctx.nowMs,
          slack: approvalSlack(ctx.client as never),
        },
      );
      await ctx.whisper(out.message);
    },
  });
}

export const actionCommands = ACTIONS.map(actionCommand);
