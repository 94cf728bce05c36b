/**
 * What postsuper said on stderr. It exits 0 even when nothing matched, so its per-ID lines
 * and its summary are the only evidence of what it did:
 *   postsuper: 3F1A61A0A1: placed on hold
 *   postsuper: Placed on hold: 3 messages        (printed even for 0)
 *   postsuper: warning: invalid mail queue id: …
 *   postsuper: fatal: invalid directory name: …  (exit 1)
 */
export interface PostsuperOutcome {
  /** Queue ID → "placed on hold" | "released from hold" | "requeued" | "removed". */
  perId: Map<string, string>;
  /** "Placed on hold: 3 messages", as printed. */
  summary: string[];
  /** The counts from the summary lines, by verb ("Placed on hold" → 3). */
  counts: Map<string, number>;
  warnings: string[];
  fatal: string | undefined;
}

const PER_ID = /^postsuper: ([0-9A-Za-z]{5,32}): (placed on hold|released from hold|requeued|removed)$/;
const SUMMARY = /^postsuper: ((Placed on hold|Released from hold|Requeued|Deleted): (\d+) messages?)$/;
const WARNING = /^postsuper: warning: (.*)$/;
const FATAL = /^postsuper: fatal: (.*)$/;

export function parsePostsuper(stderr: string): PostsuperOutcome {
  const out: PostsuperOutcome = {
    perId: new Map(),
    summary: [],
    counts: new Map(),
    warnings: [],
    fatal: undefined,
  };
  for (const raw of stderr.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const m = PER_ID.exec(line);
    if (m) {
      out.perId.set(m[1] as string, m[2] as string);
      continue;
    }
    const s = SUMMARY.exec(line);
    if (s) {
      out.summary.push(s[1] as string);
      out.counts.set(s[2] as string, (out.counts.get(s[2] as string) ?? 0) + Number(s[3]));
      continue;
    }
    const w = WARNING.exec(line);
    if (w) out.warnings.push((w[1] as string).slice(0, 300));
    const f = FATAL.exec(line);
    if (f) out.fatal = (f[1] as string).slice(0, 300);
  }
  return out;
}

/** The summary verb each action's postsuper prints. */
export const SUMMARY_VERB = {
  "-h": "Placed on hold",
  "-H": "Released from hold",
  "-r": "Requeued",
  "-d": "Deleted",
} as const;
