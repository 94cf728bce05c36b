import { isAbsolute, join, normalize } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_LAB_BASE } from "../../test/lab/lab.js";

export const DEMO_ROOT = join(DEFAULT_LAB_BASE, "demo");
export const DEFAULT_MESSAGES = 10_000;
const MAX_MESSAGES = 100_000;

export const DEMO_USAGE = `usage: npm run demo [-- --messages N] [-- --root DIR]    start the demo relay (N default ${DEFAULT_MESSAGES})
       npm run demo -- down [--root DIR]                     remove it all
DIR must lie under ${DEFAULT_LAB_BASE}/ (default ${DEMO_ROOT}).`;

export type DemoArgs = { cmd: "up"; messages: number; root: string } | { cmd: "down"; root: string };

/** The demo's command line, or the reason it is refused. */
export function parseDemoArgs(argv: string[]): DemoArgs | { error: string } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { messages: { type: "string" }, root: { type: "string" } },
    });
  } catch (e) {
    return { error: (e as Error).message };
  }
  const [cmd = "up", ...extra] = parsed.positionals;
  if (cmd !== "up" && cmd !== "down") return { error: `unknown command ${JSON.stringify(cmd)}` };
  if (extra.length) return { error: `unexpected argument ${JSON.stringify(extra[0])}` };
  const rootArg = parsed.values.root;
  const root = typeof rootArg === "string" ? normalize(rootArg).replace(/\/$/, "") : DEMO_ROOT;
  if (
    !isAbsolute(root) ||
    !root.startsWith(`${DEFAULT_LAB_BASE}/`) ||
    root.slice(DEFAULT_LAB_BASE.length + 1).includes("/")
  )
    return {
      error: `--root must be a directory directly under ${DEFAULT_LAB_BASE}/, not ${JSON.stringify(rootArg)}`,
    };
  if (cmd === "down") {
    if (parsed.values.messages !== undefined)
      return { error: "--messages goes with starting the demo, not with down" };
    return { cmd, root };
  }
  const m = parsed.values.messages;
  const messages =
    m === undefined ? DEFAULT_MESSAGES : typeof m === "string" && /^\d+$/.test(m) ? Number(m) : Number.NaN;
  if (!Number.isInteger(messages) || messages < 10 || messages > MAX_MESSAGES)
    return { error: `--messages takes a whole number from 10 to ${MAX_MESSAGES}, not ${JSON.stringify(m)}` };
  return { cmd, messages, root };
}
