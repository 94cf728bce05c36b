import { readExecutionResult } from "./execution-result.js";
import type {
  ApprovalRequest,
  ApprovalStatus,
  ArchivedMessage,
  AuditEntry,
  StoredSnapshot,
  Watch,
  WatchUpdate,
} from "./store.js";

/** A database row as both drivers return it: column name → value. */
export type Row = Record<string, unknown>;

// Rows ↔ the store's types, shared by the SQLite and PostgreSQL stores (same columns).
export const WATCH_COLUMNS: Record<keyof Omit<Watch, "id" | "version">, string> = {
  relay: "relay",
  channelId: "channel_id",
  messageTs: "message_ts",
  createdBy: "created_by",
  intervalMs: "interval_ms",
  startedAtMs: "started_at_ms",
  nextDueMs: "next_due_ms",
  updates: "updates",
  drainedStreak: "drained_streak",
  status: "status",
  stopReason: "stop_reason",
};

export function toWatch(r: Row): Watch {
  return {
    id: r.id as string,
    relay: (r.relay as string | null) ?? null,
    channelId: r.channel_id as string,
    messageTs: (r.message_ts as string | null) ?? null,
    createdBy: r.created_by as string,
    intervalMs: r.interval_ms as number,
    startedAtMs: r.started_at_ms as number,
    nextDueMs: r.next_due_ms as number,
    updates: r.updates as number,
    drainedStreak: r.drained_streak as number,
    status: r.status as Watch["status"],
    stopReason: (r.stop_reason as string | null) ?? null,
    version: r.version as number,
  };
}

export function toWatchUpdate(r: Row): WatchUpdate {
  return {
    seq: r.seq as number,
    dueMs: r.due_ms as number,
    claimedAtMs: r.claimed_at_ms as number,
    posted: Number(r.posted) === 1,
    messageTs: (r.message_ts as string | null) ?? null,
  };
}

export function toApproval(r: Row): ApprovalRequest {
  return {
    id: r.id as string,
    relay: r.relay as string,
    action: r.action as ApprovalRequest["action"],
    selector: r.selector as string,
    ticket: r.ticket as string,
    reason: r.reason as string,
    requester: r.requester as string,
    channelId: r.channel_id as string,
    messageTs: (r.message_ts as string | null) ?? null,
    createdAtMs: r.created_at_ms as number,
    expiresAtMs: r.expires_at_ms as number,
    status: r.status as ApprovalStatus,
    frozen: JSON.parse(r.frozen_json as string),
    command: r.command as string,
    ...(r.batch_json == null ? {} : { batch: JSON.parse(r.batch_json as string) }),
    approvers: JSON.parse(r.approvers_json as string),
    result: typeof r.result_json === "string" ? readExecutionResult(r.result_json, String(r.id)) : null,
    version: r.version as number,
  };
}

export function toAudit(r: Row): AuditEntry {
  return {
    id: r.id as number,
    atMs: r.at_ms as number,
    kind: r.kind as AuditEntry["kind"],
    actor: r.actor as string,
    relay: (r.relay as string | null) ?? null,
    ticket: (r.ticket as string | null) ?? null,
    requestId: (r.request_id as string | null) ?? null,
    detail: JSON.parse(r.detail_json as string),
  };
}

export function toSnapshot(r: Row): StoredSnapshot {
  return {
    id: r.id as number,
    relay: r.relay as string,
    takenAtMs: r.taken_at_ms as number,
    snapshot: JSON.parse(r.json as string),
  };
}

export function toArchived(r: Row): ArchivedMessage {
  const restoreId = (r.restore_request_id as string | null) ?? null;
  return {
    id: r.id as string,
    relay: r.relay as string,
    ticket: r.ticket as string,
    requestId: r.request_id as string,
    queueId: r.queue_id as string,
    queueName: r.queue_name as string,
    arrivalTime: r.arrival_time as number,
    sender: r.sender as string,
    recipientDomains: JSON.parse(r.recipient_domains_json as string),
    path: r.path as string,
    bytes: r.bytes as number,
    sha256: r.sha256 as string,
    archivedAtMs: r.archived_at_ms as number,
    deletedBy: r.deleted_by as string,
    approvedBy: JSON.parse(r.approved_by_json as string),
    restore:
      restoreId === null
        ? null
        : {
            requestId: restoreId,
            claimedAtMs: r.restore_claimed_at_ms as number,
            restoredAtMs: (r.restored_at_ms as number | null) ?? null,
            newQueueId: (r.restored_queue_id as string | null) ?? null,
          },
    prunedAtMs: (r.pruned_at_ms as number | null) ?? null,
  };
}

/** Columns of `archive`, in the order both stores insert them. */
export const ARCHIVE_INSERT_COLUMNS = [
  "id",
  "relay",
  "ticket",
  "request_id",
  "queue_id",
  "queue_name",
  "arrival_time",
  "sender",
  "recipient_domains_json",
  "path",
  "bytes",
  "sha256",
  "archived_at_ms",
  "deleted_by",
  "approved_by_json",
] as const;

export function archiveValues(m: Omit<ArchivedMessage, "restore" | "prunedAtMs">): unknown[] {
  return [
    m.id,
    m.relay,
    m.ticket,
    m.requestId,
    m.queueId,
    m.queueName,
    m.arrivalTime,
    m.sender,
    JSON.stringify(m.recipientDomains),
    m.path,
    m.bytes,
    m.sha256,
    m.archivedAtMs,
    m.deletedBy,
    JSON.stringify(m.approvedBy),
  ];
}
