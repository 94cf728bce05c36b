import * as z from "zod";
import { type Command, defineSubcommand } from "../src/chat/command.js";

export function helpText(all: Command[]): string {
  const lines = ["*mailq-bot* — see and safely recover a stuck Postfix queue.", ""];
  for (const c of all) {
    lines.push(`• \`${c.usage}\` — ${c.summary}`);
    for (const e of c.examples) lines.push(`    e.g. \`${e}\``);
  }
  return lines.join("\n");
}

export function makeHelp(all: () => Command[]) {
  return defineSubcommand<Record<string, never>>({
    name: "help",
    summary: "This list",
    access: "any",
    usage: "/mailq help",
    examples: ["/mailq help"],
    schema: () =>
      z
        .array(z.string())
        .max(0, "help takes no arguments")
        .transform(() => ({})),
    ackText: () => helpText(all()),
    async run() {},
  });
}
