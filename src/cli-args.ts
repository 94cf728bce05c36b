import { type ParseArgsConfig, parseArgs } from "node:util";
import { closest, distance } from "fastest-levenshtein";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & { help: string; value?: string };

export interface CliCommandSpec {
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Words after the command it takes (most take none). */
  positionals?: { usage: string; min: number; max: number };
  /** Extra lines under the options: exit codes, examples. */
  notes?: string[];
}

const config: OptionSpec = {
  type: "string",
  value: "FILE",
  help: "the YAML configuration (else $MAILQ_CONFIG, else ./mailq.yaml)",
};
const relay: OptionSpec = {
  type: "string",
  value: "NAME",
  help: "one relay from the configuration (default: all)",
};
const help: OptionSpec = { type: "boolean", short: "h", help: "this help" };
// Accepted and not read, so one --config can go with any command (wrappers, scripts).
const unusedConfig: OptionSpec = {
  ...config,
  help: "accepted with any command; this one reads no configuration",
};

/** Every CLI subcommand and the flags it takes; nothing else is accepted. */
export const CLI_COMMANDS: CliCommandSpec[] = [
  {
    name: "status",
    summary: "read-only snapshot of the queue(s); on a huge queue a partial answer comes first",
    options: {
      relay,
      config,
      json: { type: "boolean", help: "one JSON document (schemaVersion, relays: […]) instead of text" },
      "wait-full": {
        type: "boolean",
        help: "wait for the complete listing instead of answering partially first",
      },
      help,
    },
    notes: [
      "Exit status: 0 every relay answered, 1 some did not, 2 bad usage or configuration,",
      "3 an answer is incomplete: the --json document is partial (a listing was still running;",
      "--wait-full waits), or a listing could not finish (its deadline, or Postfix is down).",
      "On a terminal, a progress line on stderr shows the listing as it streams.",
    ],
  },
  {
    name: "triage",
    summary: "the first-ten-minutes checklist, read-only: findings by cause, evidence, the safe lever",
    options: { relay, config, json: { type: "boolean", help: "JSON instead of text" }, help },
  },
  {
    name: "watch",
    summary: "progress every interval until Ctrl-C, or until the queue drains (watch.drainedBelow)",
    options: {
      relay,
      config,
      every: {
        type: "string",
        value: "DURATION",
        help: "the interval, such as 30s, 5m or 15m (default watch.interval)",
      },
      help,
    },
  },
  {
    name: "audit",
    summary: "the audit trail as JSON lines, oldest first",
    options: { json: { type: "boolean", help: "required: JSON lines" }, config, help },
  },
  {
    name: "archive",
    summary:
      "the archive of deleted mail: list what can be restored, verify checksums, prune past archive.retention",
    options: {
      ticket: {
        type: "string",
        value: "REF",
        help: "only what was deleted under this ticket (list, verify)",
      },
      relay,
      config,
      json: { type: "boolean", help: "list: JSON lines, one archived message each" },
      help,
    },
    positionals: { usage: "list|verify|prune|adopt", min: 1, max: 1 },
    notes: ["Exit status of verify: 0 every file matches its recorded checksum, 1 some do not."],
  },
  { name: "serve", summary: "run the Slack app (/mailq)", options: { config, help } },
  {
    name: "doctor",
    summary:
      "the preflight: config, store, archive, each relay (TCP, host key, login, gate, probes, sudo, mail log) and Slack",
    options: { relay, config, help },
    notes: ["Exit status: 0 every check passed (warnings allowed), 1 some failed."],
  },
  {
    name: "fingerprint",
    summary: "the host key fingerprint a relay presents (for hostKeyFingerprint)",
    options: { config: unusedConfig, help },
    positionals: { usage: "HOST[:PORT]", min: 1, max: 1 },
    notes: ["IPv6: [ADDR]:PORT."],
  },
  {
    name: "healthcheck",
    summary: "exit 0 when the running bot's /healthz answers",
    options: {
      wait: { type: "string", value: "DURATION", help: "keep trying this long, such as 30s" },
      config: unusedConfig,
      help,
    },
  },
  {
    name: "help",
    summary: "this overview; `mailq-bot <command> --help` for one command",
    options: { config: unusedConfig, help },
  },
];

const flagText = (name: string, o: OptionSpec) =>
  `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`;

export function commandHelp(c: CliCommandSpec): string {
  const flags = Object.entries(c.options).map(([n, o]) => [flagText(n, o), o.help] as const);
  const width = Math.max(...flags.map(([f]) => f.length));
  const usage = Object.entries(c.options)
    .filter(([n]) => n !== "help")
    .map(([n, o]) => `[--${n}${o.value ? ` ${o.value}` : ""}]`)
    .join(" ");
  const words = c.positionals ? ` ${c.positionals.usage}` : "";
  return [
    `mailq-bot ${c.name} — ${c.summary}`,
    "",
    `Usage: mailq-bot ${c.name}${words}${usage ? ` ${usage}` : ""}`,
    "",
    "Options:",
    ...flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`),
    ...(c.notes?.length ? ["", ...c.notes] : []),
  ].join("\n");
}

export function overviewHelp(): string {
  const width = Math.max(...CLI_COMMANDS.map((c) => c.name.length));
  return [
    "mailq-bot — see and safely recover a stuck Postfix queue",
    "",
    "Usage: mailq-bot <command> [options]    (no command: serve)",
    "",
    "Commands:",
    ...CLI_COMMANDS.map((c) => `  mailq-bot ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "`mailq-bot <command> --help` lists a command's options.",
    'Configuration: --config FILE, else $MAILQ_CONFIG, else ./mailq.yaml, else this machine (relay "local").',
    "The environment: the process's, over ./.env when it exists; NAME= (empty) means not set.",
  ].join("\n");
}

/** The nearest known word when it is close enough to be a typo (stauts → status, --relya → --relay). */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  if (!known.length) return undefined;
  const best = closest(word, [...known]);
  return distance(word, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

export type ParsedCli =
  | {
      kind: "run";
      command: string;
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    }
  | { kind: "help"; text: string }
  | { kind: "error"; message: string };

/**
 * `mailq-bot --config FILE status …` as `mailq-bot status --config FILE …`: every command takes
 * --config, and a wrapper or a habit puts it first. Anything else before a command stays serve's.
 */
function configFirst(argv: readonly string[]): readonly string[] {
  const taken = argv[0] === "--config" ? 2 : argv[0]?.startsWith("--config=") ? 1 : 0;
  const word = argv[taken];
  if (!taken || word === undefined || !CLI_COMMANDS.some((c) => c.name === word)) return argv;
  return [word, ...argv.slice(0, taken), ...argv.slice(taken + 1)];
}

/**
 * The command comes first (or after one --config); only its own flags are accepted. Mistakes
 * come back as one line that says what was wrong and what was probably meant.
 */
export function parseCli(args: readonly string[]): ParsedCli {
  const argv = configFirst(args);
  const first = argv[0];
  if (first === undefined) return { kind: "run", command: "serve", values: {}, positionals: [] };
  if (first === "-h" || first === "--help") return { kind: "help", text: overviewHelp() };
  const names = CLI_COMMANDS.map((c) => c.name);
  const [word, rest] = first.startsWith("-") ? ["serve", argv] : [first, argv.slice(1)];
  const spec = CLI_COMMANDS.find((c) => c.name === word);
  if (!spec) {
    const guess = didYouMean(word, names);
    return {
      kind: "error",
      message: `unknown command "${word}"${guess ? ` — did you mean "${guess}"?` : ""} Commands: ${names.join(", ")}.`,
    };
  }
  if (spec.name === "help") {
    const about = CLI_COMMANDS.find((c) => c.name === rest[0]);
    return { kind: "help", text: about && about.name !== "help" ? commandHelp(about) : overviewHelp() };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options: spec.options, allowPositionals: true, strict: true });
  } catch (e) {
    return { kind: "error", message: `${spec.name}: ${flagProblem(e, spec)}` };
  }
  if (parsed.values.help === true) return { kind: "help", text: commandHelp(spec) };
  const takes = spec.positionals ?? { usage: "", min: 0, max: 0 };
  if (parsed.positionals.length < takes.min)
    return {
      kind: "error",
      message: `${spec.name}: it needs ${takes.usage} (\`mailq-bot ${spec.name} --help\`)`,
    };
  if (parsed.positionals.length > takes.max)
    return {
      kind: "error",
      message: `${spec.name}: unexpected argument "${parsed.positionals[takes.max]}" (flags take --name; \`mailq-bot ${spec.name} --help\` lists them)`,
    };
  return {
    kind: "run",
    command: spec.name,
    values: parsed.values as Record<string, string | boolean | undefined>,
    positionals: parsed.positionals,
  };
}

function flagProblem(e: unknown, spec: CliCommandSpec): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  const more = `\`mailq-bot ${spec.name} --help\` lists its options.`;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
    const bare = flag.replace(/^-+/, "").split("=")[0] ?? "";
    const owner = CLI_COMMANDS.find((c) => c !== spec && bare in c.options);
    if (owner) return `--${bare} is not an option of ${spec.name} (it is one of ${owner.name}). ${more}`;
    const guess = didYouMean(bare, Object.keys(spec.options));
    return `unknown option ${flag}${guess ? ` — did you mean --${guess}?` : ""} ${more}`;
  }
  return `${message.replace(/\. To specify a positional argument.*$/, "")}. ${more}`;
}
