import type {
  ApprovalRequest,
  ApprovalStatus,
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
    result: r.result_json == null ? null : JSON.parse(r.result_json as string),
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
