import { z } from "zod";
import { normaliseReason } from "../analysis/reasons.js";
import type { Config } from "../config.js";
import { addressDomain, QUEUE_ID_RE, QUEUE_NAMES, type QueueEntry } from "../parsers/postqueue.js";
import type { FrozenMessage } from "../store/store.js";
import { parseDuration } from "../util/duration.js";

export const ACTIONS = ["hold", "release", "requeue", "delete", "retry"] as const;
export type Action = (typeof ACTIONS)[number];

/** postsuper's flag per action; retry is `postqueue -i`, one ID at a time. */
export const POSTSUPER_FLAG: Record<Exclude<Action, "retry">, string> = {
  hold: "-h",
  release: "-H",
  requeue: "-r",
  delete: "-d",
};
export const RETRY_CAP = 50;
export const MAX_MESSAGES = 100_000;

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
  ticket: string;
  reason: string;
}

const ADDRESS_RE = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const DOMAIN_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
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
      return ADDRESS_RE.test(v) || v === "<>"
        ? { kind: "sender", address: v === "<>" ? "" : v.toLowerCase() }
        : `sender: takes an e-mail address`;
    case "domain":
      return DOMAIN_RE.test(v) ? { kind: "domain", domain: v.toLowerCase() } : `domain: takes a domain name`;
    case "queue":
      return (QUEUE_NAMES as readonly string[]).includes(v)
        ? { kind: "queue", queue: v }
        : `queue: takes one of ${QUEUE_NAMES.join(", ")}`;
    case "reason":
      return v.length >= 3 && v.length <= 200 && PRINTABLE.test(v)
        ? { kind: "reason", text: v.toLowerCase() }
        : `reason: takes 3 to 200 printable characters`;
    default: {
      const ms = parseDuration(v);
      return ms !== undefined ? { kind: "older", ms } : `older: takes a duration such as 30m or 2h`;
    }
  }
}

/** The words after `/mailq <action>`: relay, selectors, --ticket REF, --reason "text". */
export function requestSchema(action: Action, config: Config) {
  const relays = config.relays.map((r) => r.name);
  const ticketRe = new RegExp(config.tickets.pattern);
  return z.array(z.string()).transform((words, ctx): ActionRequest => {
    const fail = (message: string) => {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    };
    const rest = words.map(unslack);
    let ticket: string | undefined;
    let reason = "";
    const selectors: Selector[] = [];
    const [relay, ...tail] = rest;
    if (relay === undefined) return fail(`name a relay first; known relays: ${relays.join(", ")}`);
    if (!relays.includes(relay))
      return fail(`unknown relay "${relay.slice(0, 40)}"; known relays: ${relays.join(", ")}`);
    for (let i = 0; i < tail.length; i++) {
      const w = tail[i] as string;
      if (w === "--ticket") ticket = tail[++i];
      else if (w === "--reason") reason = tail[++i] ?? "";
      else {
        const s = parseSelector(w, action);
        if (typeof s === "string") return fail(s);
        selectors.push(s);
      }
    }
    if (ticket === undefined) return fail("a ticket reference is required: --ticket ABC-123");
    if (!ticketRe.test(ticket) || ticket.length > 64)
      return fail(`the ticket "${ticket.slice(0, 40)}" does not match ${config.tickets.pattern}`);
    if (reason.length > 300 || !PRINTABLE.test(reason))
      return fail("the reason takes at most 300 printable characters");
    if (selectors.length === 0)
      return fail("say which messages: queue IDs, or selectors such as domain:example.com");
    if (selectors.length > 500) return fail("at most 500 selectors");
    if (selectors.some((s) => s.kind === "all") && selectors.length > 1) return fail("ALL stands alone");
    return { action, relay, selectors, ticket, reason };
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

export function freeze(e: QueueEntry): FrozenMessage {
  return {
    queueId: e.queueId,
    queueName: e.queueName,
    arrivalTime: e.arrivalTime,
    sender: e.sender,
    recipientDomains: [...new Set(e.recipients.map((r) => addressDomain(r.address)))],
  };
}

/** The exact commands that will run, as shown on the approval card. */
export function commandText(action: Action, frozen: FrozenMessage[]): string {
  if (action === "retry") return `postqueue -i <ID> for each of ${frozen.length} IDs`;
  const byQueue = groupByQueue(frozen);
  return [...byQueue]
    .map(
      ([q, ids]) =>
        `postsuper ${POSTSUPER_FLAG[action]} - ${q}  (${ids.length} queue ID${ids.length === 1 ? "" : "s"} on stdin)`,
    )
    .join("\n");
}

export function groupByQueue(frozen: FrozenMessage[]): Map<string, FrozenMessage[]> {
  const m = new Map<string, FrozenMessage[]>();
  for (const f of frozen) m.set(f.queueName, [...(m.get(f.queueName) ?? []), f]);
  return m;
}

export function selectorText(selectors: Selector[]): string {
  return selectors
    .map((s) =>
      s.kind === "id"
        ? s.id
        : s.kind === "all"
          ? "ALL"
          : s.kind === "older"
            ? `older:${Math.round(s.ms / 60_000)}m`
            : `${s.kind}:${"address" in s ? s.address : "domain" in s ? s.domain : "queue" in s ? s.queue : s.text}`,
    )
    .join(" ");
}
