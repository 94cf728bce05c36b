import type { App, BlockAction } from "@slack/bolt";
import type { CommandDeps } from "../../context.js";
import { APPROVAL_ACTION, approvalAction } from "./approval.js";
import { TRIAGE_ACTION, triageAction } from "./triage.js";

/** Buttons: Approve / Reject / Cancel on approval cards, the next steps under a triage card. */
export function registerActions(app: App, deps: CommandDeps): void {
  app.action<BlockAction>(APPROVAL_ACTION, approvalAction(deps));
  app.action<BlockAction>(TRIAGE_ACTION, triageAction(deps));
}
