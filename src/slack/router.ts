import type { Command, CommandContext, Need } from "../chat/command.js";
import type { Config } from "../config.js";
import { formatIssues } from "../config.js";

export const MAX_COMMAND_TEXT = 1000;
const TOKEN_RE = /^[\x20-\x7e]*$/;

/** Words split on spaces; "double quotes" keep spaces inside a word (--reason "text"). */
export function tokenize(text: string): string[] | undefined {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (/\s/.test(ch) && !quoted) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quoted) return undefined;
  if (inWord) words.push(cur);
  return words;
}

/** A subcommand with its arguments checked, ready to acknowledge and run. */
export interface Bound {
  name: string;
  access: Need;
  /** The arguments as the schema read them. */
  args: unknown;
  /** The relay the arguments name, for the access check's audit line. */
  relay: string | null;
  ackText: string;
  run(ctx: CommandContext): Promise<void>;
}

export type Routed = ({ ok: true } & Bound) | { ok: false; message: string };

/**
 * What a phone or macOS typed for the person: smart quotes for "…" and an em or en dash for
 * "--" at the start of an option. Only these are turned back; every other non-ASCII character
 * is still refused.
 */
export function undoSmartPunctuation(text: string): string {
  return text
    .replace(/[\u201c\u201d\u201e\u201f]/g, '"')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/(^|\s)[\u2013\u2014](?=[a-z])/g, "$1--")
    .replace(/\u00a0/g, " ");
}

/** Slash command text → a subcommand and validated arguments, or a message saying what exists. */
export function route(typed: string, all: Command[], config: Config): Routed {
  const text = undoSmartPunctuation(typed);
  if (text.length > MAX_COMMAND_TEXT)
    return {
      ok: false,
      message: `That command is too long (over ${MAX_COMMAND_TEXT} characters). ${known(all, config)}`,
    };
  if (!TOKEN_RE.test(text))
    return {
      ok: false,
      message: `That command has characters the bot does not accept (control characters, newlines or non-ASCII). ${known(all, config)}`,
    };
  const words = tokenize(text);
  if (words === undefined)
    return { ok: false, message: `A double quote is not closed. ${known(all, config)}` };
  return routeWords(words, all, config);
}

/** Words (the subcommand first) → a subcommand and validated arguments; a button's words come here too. */
export function routeWords(words: string[], all: Command[], config: Config): Routed {
  const [name = "help", ...rest] = words;
  const command = all.find((c) => c.name === name.toLowerCase());
  if (!command)
    return { ok: false, message: `Unknown subcommand \`${name.slice(0, 40)}\`. ${known(all, config)}` };
  return bind(command, rest, all, config);
}

function known(all: Command[], config: Config): string {
  return `Subcommands: ${all.map((c) => c.name).join(", ")}. Relays: ${config.relays.map((r) => r.name).join(", ")}. Try \`/mailq help\`.`;
}

function bind(command: Command, rest: string[], all: Command[], config: Config): Routed {
  const read = command.read(rest, config);
  if (!read.ok) {
    return {
      ok: false,
      message: `\`/mailq ${command.name}\`: invalid arguments:\n${formatIssues(read.error)}\nUsage: \`${command.usage}\`. ${known(all, config)}`,
    };
  }
  return {
    ok: true,
    name: command.name,
    access: command.access,
    args: read.args,
    relay: relayOf(read.args),
    ackText: read.ackText,
    run: read.run,
  };
}

function relayOf(args: unknown): string | null {
  if (typeof args !== "object" || args === null || !("relay" in args)) return null;
  return typeof args.relay === "string" ? args.relay : null;
}
