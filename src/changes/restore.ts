import * as z from "zod";
import type { Config } from "../config.js";
import { isDomainName, isPlainAddress } from "../parsers/address.js";
import { addressDomain, QUEUE_ID_RE } from "../parsers/postqueue.js";
import { sendmailArgv } from "../relay/argv.js";
import type { ArchivedMessage, FrozenMessage } from "../store/store.js";
import { reasonProblem, ticketProblem, unslack } from "./request.js";

/** A restore never freezes more than this many archived messages. */
export const MAX_RESTORE = 1000;

export type RestoreSelector =
  | { kind: "id"; id: string }
  | { kind: "ticket"; ticket: string }
  | { kind: "request"; prefix: string }
  | { kind: "sender"; address: string }
  | { kind: "domain"; domain: string }
  | { kind: "after"; ms: number }
  | { kind: "before"; ms: number };

export interface RestoreRequest {
  relay: string;
  selectors: RestoreSelector[];
  ticket: string;
  reason: string;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?Z)?$/;

export function parseRestoreSelector(word: string, ticketPattern: string): RestoreSelector | string {
  const m = /^(ticket|request|sender|domain|after|before):(.+)$/.exec(word);
  if (!m)
    return QUEUE_ID_RE.test(word)
      ? { kind: "id", id: word }
      : `"${word.slice(0, 40)}" is neither an original queue ID nor a selector (ticket:, request:, sender:, domain:, after:, before:)`;
  const v = m[2] as string;
  switch (m[1]) {
    case "ticket": {
      const p = ticketProblem(v, ticketPattern);
      return p ? `ticket: ${p}` : { kind: "ticket", ticket: v };
    }
    case "request":
      return /^[0-9a-f-]{8,36}$/.test(v)
        ? { kind: "request", prefix: v }
        : "request: takes a delete request ID (its first 8 characters are enough)";
    case "sender":
      return isPlainAddress(v) || v === "<>"
        ? { kind: "sender", address: v === "<>" ? "" : v.toLowerCase() }
        : "sender: takes an e-mail address";
    case "domain":
      return isDomainName(v) ? { kind: "domain", domain: v.toLowerCase() } : "domain: takes a domain name";
    default: {
      const ms = ISO_TIME.test(v) ? Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v) : Number.NaN;
      return Number.isFinite(ms)
        ? { kind: m[1] as "after" | "before", ms }
        : `${m[1]}: takes a UTC time such as 2026-11-30 or 2026-11-30T18:00Z (when the message was archived)`;
    }
  }
}

/** The words after `/mailq restore`: relay, selectors over the archive, --ticket REF, --reason "text". */
export function restoreSchema(config: Config) {
  const relays = config.relays.map((r) => r.name);
  return z.array(z.string()).transform((words, ctx): RestoreRequest => {
    const fail = (message: string) => {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    };
    const [relay, ...tail] = words.map(unslack);
    if (relay === undefined) return fail(`name a relay first; known relays: ${relays.join(", ")}`);
    if (!relays.includes(relay))
      return fail(`unknown relay "${relay.slice(0, 40)}"; known relays: ${relays.join(", ")}`);
    let ticket: string | undefined;
    let reason = "";
    const selectors: RestoreSelector[] = [];
    for (let i = 0; i < tail.length; i++) {
      const w = tail[i] as string;
      const next = tail[i + 1];
      if (w === "--ticket" || w === "--reason") {
        i++;
        if (next === undefined || next.startsWith("--"))
          return fail(
            w === "--ticket" ? "--ticket takes a ticket reference" : "--reason takes a text in quotes",
          );
        if (w === "--ticket") ticket = next;
        else reason = next;
      } else if (w.startsWith("--")) {
        return fail(`unknown option "${w.slice(0, 20)}"; options: --ticket, --reason`);
      } else {
        const s = parseRestoreSelector(w, config.tickets.pattern);
        if (typeof s === "string") return fail(s);
        selectors.push(s);
      }
    }
    if (ticket === undefined) return fail("a ticket reference is required: --ticket ABC-123");
    const p = ticketProblem(ticket, config.tickets.pattern);
    if (p) return fail(p);
    const rp = reasonProblem(reason);
    if (rp) return fail(rp);
    if (!selectors.length)
      return fail(
        "say which archived messages: ticket:INC-42, request:ID, sender:, domain:, after:, before: or original queue IDs",
      );
    if (selectors.length > 500) return fail("at most 500 selectors");
    return { relay, selectors, ticket, reason };
  });
}

/** Whether an archived message matches every selector (AND; several IDs are OR among themselves). */
export function archiveMatches(m: ArchivedMessage, selectors: RestoreSelector[]): boolean {
  const ids = selectors.filter((s) => s.kind === "id");
  if (ids.length && !ids.some((s) => s.id === m.queueId)) return false;
  return selectors.every((s) => {
    switch (s.kind) {
      case "ticket":
        return m.ticket === s.ticket;
      case "request":
        return m.requestId.startsWith(s.prefix);
      case "sender":
        return m.sender.toLowerCase() === s.address;
      case "domain":
        return m.recipientDomains.includes(s.domain) || addressDomain(m.sender) === s.domain;
      case "after":
        return m.archivedAtMs >= s.ms;
      case "before":
        return m.archivedAtMs < s.ms;
      default:
        return true;
    }
  });
}

export function freezeArchived(m: ArchivedMessage): FrozenMessage {
  return {
    queueId: m.queueId,
    queueName: m.queueName,
    arrivalTime: m.arrivalTime,
    sender: m.sender,
    recipientDomains: m.recipientDomains,
    archive: { id: m.id, sha256: m.sha256, bytes: m.bytes, ticket: m.ticket, deletedBy: m.deletedBy },
  };
}

export function restoreSelectorText(selectors: RestoreSelector[]): string {
  return selectors
    .map((s) => {
      switch (s.kind) {
        case "id":
          return s.id;
        case "ticket":
          return `ticket:${s.ticket}`;
        case "request":
          return `request:${s.prefix}`;
        case "sender":
          return `sender:${s.address || "<>"}`;
        case "domain":
          return `domain:${s.domain}`;
        default:
          return `${s.kind}:${new Date(s.ms).toISOString().slice(0, 16)}Z`;
      }
    })
    .join(" ");
}

/** What the card shows will run: the same argv builder the relay code uses. */
export function restoreCommandText(n: number): string {
  return `${sendmailArgv("<archived sender>", ["<archived recipients…>"]).join(" ")}  (once for each of ${n} archived message${n === 1 ? "" : "s"}: its contents on stdin, with an added X-Mailq-Restored: <request> <queue ID> header)`;
}
