/**
 * The demo's stuck queue, message by message (deterministic, interleaved): per 100 messages,
 * 44 to refused.lab.test (connection refused), 18 to throttle.lab.test (451 4.7.1), 14 to
 * dnsfail.lab.test (DNS SERVFAIL), 12 to greylist.lab.test (450 4.2.0), 8 to hold.lab.test
 * (put on hold once queued) and 4 to two domains at once. Several senders, one of them the
 * null sender of bounces; bodies of 0.4–4.5 kB.
 */
import type { Planned } from "../../bench/fill.js";
import { LAB_DOMAINS } from "../../test/lab/lab.js";

export const DEMO_SENDERS = [
  "orders@shop.example.internal",
  "noreply@shop.example.internal",
  "invoices@billing.example.internal",
  "alerts@monitoring.example.internal",
  "newsletter@news.example.internal",
  "",
];

/** The causes in the plan, with their share of every 100 messages (the rest: two domains each). */
export const DEMO_MIX: { domain: string; share: number; hold: boolean }[] = [
  { domain: LAB_DOMAINS.refused, share: 44, hold: false },
  { domain: LAB_DOMAINS.throttle, share: 18, hold: false },
  { domain: LAB_DOMAINS.dnsfail, share: 14, hold: false },
  { domain: LAB_DOMAINS.greylist, share: 12, hold: false },
  { domain: LAB_DOMAINS.hold, share: 8, hold: true },
];

export function demoMessage(i: number): Planned {
  const k = (i * 7919) % 100; // 7919 is prime: the causes interleave
  const from = DEMO_SENDERS[i % DEMO_SENDERS.length] ?? "";
  const bodyLines = 5 + ((i * 31) % 60);
  const user = `u${(i * 104729) % 50_000}`;
  const subject = `demo message ${i}`;
  let upTo = 0;
  for (const c of DEMO_MIX) {
    upTo += c.share;
    if (k < upTo) return { from, to: [`${user}@${c.domain}`], hold: c.hold, bodyLines, subject };
  }
  const to = [`${user}@${LAB_DOMAINS.refused}`, `${user}@${LAB_DOMAINS.greylist}`];
  return { from, to, hold: false, bodyLines, subject };
}
