/** `postconf name1 name2 …` → { name: value }; lines are "name = value". */
export function parsePostconf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf(" =");
    if (eq <= 0) continue;
    const name = line.slice(0, eq).trim();
    if (!/^[a-z0-9_]+$/.test(name)) continue;
    out[name] = line.slice(eq + 2).trim();
  }
  return out;
}

export interface PostfixSettings {
  queueDirectory: string;
  maillogFile: string;
  syslogName: string;
  mailVersion: string;
  maximalQueueLifetimeS: number | undefined;
  concurrency: Record<string, string>;
}

/** The rate and concurrency settings the cards and triage show. */
export const CONCURRENCY_KEYS = [
  "default_destination_concurrency_limit",
  "smtp_destination_concurrency_limit",
  "default_process_limit",
  "qmgr_message_active_limit",
  "minimal_backoff_time",
  "maximal_backoff_time",
] as const;

/** Postfix time values: "5d", "300s", "1h", bare number = the parameter's default unit. */
export function postfixTimeToSeconds(
  value: string | undefined,
  defaultUnit: "s" | "d" = "s",
): number | undefined {
  if (!value) return undefined;
  const m = /^(\d+)([smhdw]?)$/.exec(value.trim());
  if (!m) return undefined;
  const mult = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[
    (m[2] || defaultUnit) as "s" | "m" | "h" | "d" | "w"
  ];
  return Number(m[1]) * mult;
}

export function postfixSettings(values: Record<string, string>): PostfixSettings {
  const concurrency: Record<string, string> = {};
  for (const k of CONCURRENCY_KEYS) if (values[k] !== undefined) concurrency[k] = values[k];
  return {
    queueDirectory: values.queue_directory ?? "",
    maillogFile: values.maillog_file ?? "",
    syslogName: values.syslog_name ?? "postfix",
    mailVersion: values.mail_version ?? "",
    maximalQueueLifetimeS: postfixTimeToSeconds(values.maximal_queue_lifetime, "d"),
    concurrency,
  };
}
