import type { Command } from "../src/chat/command.js";
import { audit } from "./audit.js";
import { changeCommands } from "./changes.js";
import { makeHelp } from "./help.js";
import { inspect } from "./inspect.js";
import { restore } from "./restore.js";
import { status } from "./status.js";
import { triage } from "./triage.js";
import { watch } from "./watch.js";

// Every subcommand the bot knows, in the order help lists them.
export const subcommands: Command[] = [];
subcommands.push(
  status,
  triage,
  watch,
  ...changeCommands,
  restore,
  inspect,
  audit,
  makeHelp(() => subcommands),
);
