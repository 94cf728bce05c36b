import type { Subcommand } from "../src/chat/command.js";
import { actionCommands } from "./actions.js";
import { audit } from "./audit.js";
import { makeHelp } from "./help.js";
import { inspect } from "./inspect.js";
import { restore } from "./restore.js";
import { status } from "./status.js";
import { triage } from "./triage.js";
import { watch } from "./watch.js";

// Every subcommand the bot knows, in the order help lists them.
export const subcommands: Subcommand<never>[] = [];
subcommands.push(
  status as Subcommand<never>,
  triage as Subcommand<never>,
  watch as Subcommand<never>,
  ...(actionCommands as Subcommand<never>[]),
  restore as Subcommand<never>,
  inspect as Subcommand<never>,
  audit as Subcommand<never>,
  makeHelp(() => subcommands) as Subcommand<never>,
);
