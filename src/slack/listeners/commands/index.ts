import type { App } from "@slack/bolt";
import type { CommandDeps } from "../../context.js";
import { mailqCommand } from "./mailq.js";

/** Slash commands: `/mailq` (another name where a second app shares the workspace). */
export function registerCommands(app: App, deps: CommandDeps & { command?: string }): void {
  app.command(deps.command ?? "/mailq", mailqCommand(deps));
}
