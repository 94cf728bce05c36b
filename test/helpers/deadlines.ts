import type { Config } from "../../src/config.js";

/**
 * How long a test waits for the bot, derived from the configuration under test rather than
 * tuned on a fast machine: the bot promises an answer within its probe deadlines, so a test
 * that waits past them is waiting for a bug. HARNESS covers what is not the bot's (the fake
 * Slack, signing, JSON over loopback).
 */
export const HARNESS_MS = 5_000;

/** The first status card: the SSH connect, the first-answer point (or the whole listing), then the directory counts. */
export function firstCardWithinMs(c: Config): number {
  const listing = Math.max(c.probes.timeout, c.probes.listingTimeout);
  return c.probes.timeout + Math.min(c.probes.firstAnswerAfter, listing) + c.probes.timeout + HARNESS_MS;
}

/** The complete card: the SSH connect, the whole listing within its deadline, then what follows it. */
export function fullCardWithinMs(c: Config): number {
  return (
    c.probes.timeout + Math.max(c.probes.timeout, c.probes.listingTimeout) + c.probes.timeout + HARNESS_MS
  );
}

/** A triage: the status probes with their first answer at the probe timeout, the directory counts, then the log, DNS and TCP probes. */
export function triageWithinMs(c: Config): number {
  return 3 * c.probes.timeout + HARNESS_MS;
}

/** A change request's approval card: the SSH connect, then the read-only probe that resolves it to exact queue IDs. */
export function requestCardWithinMs(c: Config): number {
  return 2 * c.probes.timeout + HARNESS_MS;
}
