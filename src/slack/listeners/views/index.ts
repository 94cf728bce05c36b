import type { App } from "@slack/bolt";
import { TICKET_FORM_CALLBACK } from "../../../cards/approval.js";
import { type TicketFormDeps, ticketForm } from "./ticket-form.js";

/** Forms submitted: the ticket form a queue change typed without --ticket opens. */
export function registerViews(app: App, deps: TicketFormDeps): void {
  app.view(TICKET_FORM_CALLBACK, ticketForm(deps));
}
