/** What postsuper said per queue ID (it exits 0 even when nothing matched). */
export interface PostsuperOutcome {
  perId: Map<string, string>;
  summary: string[];
}

const PER_ID = /^postsuper: ([0-9A-Za-z]{5,32}): (placed on hold|released from hold|requeued|removed)$/;
const SUMMARY = /^postsuper: ((?:Placed on hold|Released from hold|Requeued|Deleted): \d+ messages?)$/;

export function parsePostsuper(stderr: string): PostsuperOutcome {
  const perId = new Map<string, string>();
  const summary: string[] = [];
  for (const line of stderr.split("\n")) {
    const m = PER_ID.exec(line.trim());
    if (m) perId.set(m[1] as string, m[2] as string);
    const s = SUMMARY.exec(line.trim());
    if (s) summary.push(s[1] as string);
  }
  return { perId, summary };
}
