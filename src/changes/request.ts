import * as z from "zod";
import { normaliseReason } from "../analysis/reasons.js";
import type { Config } from "../config.js";
import { isDomainName, isPlainAddress } from "../parsers/address.js";
import { addressDomain, QUEUE_ID_RE, QUEUE_NAMES, type QueueEntry } from "../parsers/postqueue.js";
import { postcatArgv, postsuperArgv, retryArgv } from "../relay/argv.js";
import type { FrozenMessage } from "../store/store.js";
import { parseDuration } from "../util/duration.js";

export const ACTIONS = ["hold", "release", "requeue", "delete", "retry"] as const;
export type Action = (typeof ACTIONS)[number];

export const RETRY_CAP = 50;
/** IDs per `postsuper -d` call: the relay gate's default --max-delete. */
export const DELETE_RUN_MAX = 1000;
/** The relay gate refuses more IDs on one stdin; a request never freezes more. */
export const MAX_MESSAGES = 100_000;
export const MAX_REASON = 300;
export const MAX_TICKET = 64;
/** Whatever tickets.pattern says, a ticket is also an archive folder name: no '/', no '..'. */
export const TICKET_SAFE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Refused in a reason even though it never reaches a shell: command substitution, chaining, redirection. */
export const SHELL_META_RE = /[`$;|&<>\\]/;

/** Large releases and requeues may run in batches, with a pause between them. */
export interface BatchPlan {
  size: number;
  pauseMs: number;
}
export const BATCH_ACTIONS: readonly Action[] = ["release", "requeue"];
export const MAX_PAUSE_MS = 10 * 60_000;

export type Selector =
  | { kind: "id"; id: string }
  | { kind: "sender"; address: string }
  | { kind: "domain"; domain: string }
  | { kind: "queue"; queue: string }
  | { kind: "reason"; text: string }
  | { kind: "older"; ms: number }
  | { kind: "all" };

export interface ActionRequest {
  action: Action;
  relay: string;
  selectors: Selector[];
  /** Absent: Slack asks for it in a form (the request waits for it). */
  ticket: string | undefined;
  reason: string;
  batch?: BatchPlan;
}

const PRINTABLE = /^[\x20-\x7e]*$/;

/** Slack writes `<mailto:a@b|a@b>` for addresses and escapes & < >. */
export function unslack(word: string): string {
  return word
    .replace(/<mailto:[^|>]+\|([^>]+)>/g, "$1")
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, "$2")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

export function parseSelector(word: string, action: Action): Selector | string {
  if (word === "ALL")
    return action === "hold" || action === "requeue"
      ? { kind: "all" }
      : `ALL is accepted for hold and requeue only, never for ${action}`;
  const m = /^(sender|domain|queue|reason|older):(.+)$/.exec(word);
  if (!m)
    return QUEUE_ID_RE.test(word)
      ? { kind: "id", id: word }
      : `"${word.slice(0, 40)}" is neither a queue ID nor a selector (sender:, domain:, queue:, reason:, older:)`;
  const v = m[2] as string;
  switch (m[1]) {
    case "sender":
      return isPlainAddress(v) || v === "<>"
        ? { kind: "sender", address: v === "<>" ? "" : v.toLowerCase() }
        : `sender: takes an e-mail address`;
    case "domain":
      return isDomainName(v) ? { kind: "domain", domain: v.toLowerCase() } : `domain: takes a domain name`;
    case "queue":
      return (QUEUE_NAMES as readonly string[]).includes(v)
        ? { kind: "queue", queue: v }
        : `queue: takes one of ${QUEUE_NAMES.join(", ")}`;
    case "reason":
      return v.length >= 3 && v.length <= 200 && PRINTABLE.test(v) && !SHELL_META_RE.test(v)
        ? { kind: "reason", text: v.toLowerCase() }
        : "reason: takes 3 to 200 printable characters, none of ` $ ; | & < > \\";
    default: {
      const ms = parseDuration(v);
      return ms !== undefined ? { kind: "older", ms } : `older: takes a duration such as 30m or 2h`;
    }
  }
}

/** Why a ticket is refused, or undefined when it is acceptable. */
export function ticketProblem(ticket: string, pattern: string): string | undefined {
  if (ticket.length === 0) return "a ticket reference is required: --ticket ABC-123";
  if (ticket.length > MAX_TICKET || !TICKET_SAFE_RE.test(ticket) || ticket.includes(".."))
    return `the ticket "${ticket.slice(0, 40)}" is not a ticket reference (letters, digits, '.', '_' or '-', at most ${MAX_TICKET})`;
  if (!new RegExp(pattern).test(ticket))
    return `the ticket "${ticket.slice(0, 40)}" does not match ${pattern}`;
  return undefined;
}

/** Why a reason is refused, or undefined when it is acceptable. */
export function reasonProblem(reason: string): string | undefined {
  if (reason.length > MAX_REASON) return `the reason takes at most ${MAX_REASON} characters`;
  if (!PRINTABLE.test(reason)) return "the reason takes printable characters only (no newlines)";
  if (SHELL_META_RE.test(reason)) return "the reason may not contain ` $ ; | & < > or \\ (say it in words)";
  return undefined;
}

/** The words after `/mailq <action>`: relay, selectors, --ticket REF, --reason "text", --batch N --pause D. */
export function requestSchema(action: Action, config: Config) {
  const relays = config.relays.map((r) => r.name);
  return z.array(z.string()).transform((words, ctx): ActionRequest => {
    const fail = (message: string) => {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    };
    const rest = words.map(unslack);
    let ticket: string | undefined;
    let reason = "";
    let batchSize: number | undefined;
    let pauseMs: number | undefined;
    const selectors: Selector[] = [];
    const [relay, ...tail] = rest;
    if (relay === undefined) return fail(`name a relay first; known relays: ${relays.join(", ")}`);
    if (!relays.includes(relay))
      return fail(`unknown relay "${relay.slice(0, 40)}"; known relays: ${relays.join(", ")}`);
    for (let i = 0; i < tail.length; i++) {
      const w = tail[i] as string;
      const value = () => {
        const v = tail[++i];
        return v === undefined || v.startsWith("--") ? undefined : v;
      };
      if (w === "--ticket") {
        ticket = value();
        if (ticket === undefined) return fail("--ticket takes a ticket reference, e.g. --ticket INC-1234");
      } else if (w === "--reason") {
        const v = value();
        if (v === undefined) return fail('--reason takes a text in double quotes, e.g. --reason "loop"');
        reason = v;
      } else if (w === "--batch") {
        const v = value() ?? "";
        if (!/^[1-9][0-9]{0,4}$/.test(v))
          return fail("--batch takes a number of messages per run, 1 to 99999");
        batchSize = Number(v);
      } else if (w === "--pause") {
        const ms = parseDuration(value() ?? "");
        if (ms === undefined || ms > MAX_PAUSE_MS)
          return fail("--pause takes a duration up to 10m, such as 30s or 2m");
        pauseMs = ms;
      } else if (w.startsWith("--")) {
        return fail(`unknown option "${w.slice(0, 20)}"; options: --ticket, --reason, --batch, --pause`);
      } else {
        const s = parseSelector(w, action);
        if (typeof s === "string") return fail(s);
        selectors.push(s);
      }
    }
    if (ticket !== undefined) {
      const p = ticketProblem(ticket, config.tickets.pattern);
      if (p) return fail(p);
    }
    const rp = reasonProblem(reason);
    if (rp) return fail(rp);
    if (selectors.length === 0)
      return fail("say which messages: queue IDs, or selectors such as domain:example.com");
    if (selectors.length > 500) return fail("at most 500 selectors");
    if (selectors.some((s) => s.kind === "all") && selectors.length > 1) return fail("ALL stands alone");
    if ((batchSize !== undefined || pauseMs !== undefined) && !BATCH_ACTIONS.includes(action))
      return fail(`--batch and --pause are for ${BATCH_ACTIONS.join(" and ")} only`);
    if (pauseMs !== undefined && batchSize === undefined) return fail("--pause goes with --batch N");
    const batch = batchSize === undefined ? undefined : { size: batchSize, pauseMs: pauseMs ?? 10_000 };
    return { action, relay, selectors, ticket, reason, ...(batch ? { batch } : {}) };
  });
}

/** Whether one queued message matches every selector (AND; several IDs are OR among themselves). */
export function matches(e: QueueEntry, selectors: Selector[], nowS: number): boolean {
  const ids = selectors.filter((s) => s.kind === "id");
  if (ids.length && !ids.some((s) => s.id === e.queueId)) return false;
  for (const s of selectors) {
    if (s.kind === "sender" && e.sender.toLowerCase() !== s.address) return false;
    if (s.kind === "domain" && !e.recipients.some((r) => addressDomain(r.address) === s.domain)) return false;
    if (s.kind === "queue" && e.queueName !== s.queue) return false;
    if (s.kind === "older" && !(e.arrivalTime > 0 && nowS - e.arrivalTime >= s.ms / 1000)) return false;
    if (
      s.kind === "reason" &&
      !e.recipients.some(
        (r) => r.delayReason && normaliseReason(r.delayReason).toLowerCase().includes(s.text),
      )
    )
      return false;
  }
  return true;
}

/**
 * Whether the action means anything for a message in its queue now: hold leaves what is
 * already on hold, release takes only held mail, retry (postqueue -i) only deferred mail, and
 * requeue leaves held mail alone unless queue:hold is asked for, because requeueing a held
 * message releases it.
 */
export function applicable(action: Action, e: QueueEntry, selectors: Selector[]): boolean {
  switch (action) {
    case "hold":
      return e.queueName !== "hold";
    case "release":
      return e.queueName === "hold";
    case "retry":
      return e.queueName === "deferred";
    case "requeue":
      return e.queueName !== "hold" || selectors.some((s) => s.kind === "queue" && s.queue === "hold");
    default:
      return true;
  }
}

export function freeze(e: QueueEntry): FrozenMessage {
  return {
    queueId: e.queueId,
    queueName: e.queueName,
    arrivalTime: e.arrivalTime,
    sender: e.sender,
    recipientDomains: [...new Set(e.recipients.map((r) => addressDomain(r.address)))],
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The exact commands that will run, as shown on the approval card: the same argv builders
 * the relay code uses, so what was shown is what runs.
 */
export function commandText(
  action: Action,
  frozen: FrozenMessage[],
  o: { sudo?: boolean; batch?: BatchPlan; archiveDir?: string } = {},
): string {
  const sudo = o.sudo ?? false;
  if (action === "retry")
    return `${retryArgv("<ID>").join(" ")}  (once for each of ${plural(frozen.length, "queue ID")})`;
  const lines: string[] = [];
  if (action === "delete")
    lines.push(
      `${postcatArgv("<ID>", sudo).join(" ")}  → ${o.archiveDir ?? "<archive>"}/<ID>-<arrival>.postcat  (each of ${plural(frozen.length, "message")}, fsynced, before anything is deleted)`,
    );
  for (const [q, ids] of groupByQueue(frozen)) {
    const runs = o.batch ? Math.ceil(ids.length / o.batch.size) : 1;
    const deleteRuns = action === "delete" ? Math.ceil(ids.length / DELETE_RUN_MAX) : 1;
    const batching =
      o.batch && runs > 1
        ? `, ${o.batch.size} per run in ${runs} runs, ${Math.round(o.batch.pauseMs / 1000)}s apart`
        : "";
    lines.push(
      `${postsuperArgv(action, q, sudo).join(" ")}  (${plural(ids.length, "queue ID")} on stdin${batching}${deleteRuns > 1 ? `, ${DELETE_RUN_MAX} per run in ${deleteRuns} runs` : ""})`,
    );
  }
  return lines.join("\n");
}

export function groupByQueue(frozen: FrozenMessage[]): Map<string, FrozenMessage[]> {
  const m = new Map<string, FrozenMessage[]>();
  for (const f of frozen) m.set(f.queueName, [...(m.get(f.queueName) ?? []), f]);
  return m;
}

/** Selectors back to words that parseSelector reads again (quoted where they hold spaces). */
export function selectorWords(selectors: Selector[]): string[] {
  return selectors.map((s) => {
    switch (s.kind) {
      case "id":
        return s.id;
      case "all":
        return "ALL";
      case "sender":
        return `sender:${s.address || "<>"}`;
      case "domain":
        return `domain:${s.domain}`;
      case "queue":
        return `queue:${s.queue}`;
      case "older":
        return `older:${formatOlder(s.ms)}`;
      default:
        return `reason:${s.text}`;
    }
  });
}

/** The selectors as one line, the way they would be typed. */
export function selectorText(selectors: Selector[]): string {
  return selectorWords(selectors)
    .map((w) => (/\s/.test(w) ? `"${w}"` : w))
    .join(" ");
}

function formatOlder(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}
