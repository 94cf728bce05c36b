import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Mail logs a real Postfix wrote in the lab (test/triage/fixtures), and the time they are read at. */
export const MAILLOG_FIXTURES = join(import.meta.dirname, "../triage/fixtures");
export const MAILLOG_NOW = Date.UTC(2026, 10, 22, 14, 0, 0);

export const maillogLines = (f: string): string[] =>
  readFileSync(join(MAILLOG_FIXTURES, f), "utf8").split("\n").filter(Boolean);

/** The first line of the fixture matching `re`; a missing one fails the test that needs it. */
export function maillogLine(f: string, re: RegExp): string {
  const l = maillogLines(f).find((x) => re.test(x));
  if (!l) throw new Error(`no line matching ${re} in ${f}`);
  return l;
}
