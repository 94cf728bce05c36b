import type { RelaySnapshot } from "../analysis/snapshot.js";
import type { ExecutionResult } from "./execution-result.js";

export type { ExecutionResult } from "./execution-result.js";

/**
 * The durable store behind one interface: SQLite by default (zero set-up), PostgreSQL for
 * several replicas. Every state change that must happen once (an approval executing, a
 * watch update being posted) is a compare-and-set here, never an in-memory flag.
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  snapshots: SnapshotRepo;
  watches: WatchRepo;
  approvals: ApprovalRepo;
  audit: AuditRepo;
  leases: LeaseRepo;
  archive: ArchiveRepo;
  close(): Promise<void>;
}

export interface StoredSnapshot {
  id: number;
  relay: string;
  takenAtMs: number;
  snapshot: RelaySnapshot;
}

export interface SnapshotRepo {
  save(s: RelaySnapshot, takenAtMs: number): Promise<StoredSnapshot>;
  /** Newest first. */
  latest(relay: string, limit: number): Promise<StoredSnapshot[]>;
  /** Oldest first, from `sinceMs` (inclusive). */
  since(relay: string, sinceMs: number): Promise<StoredSnapshot[]>;
}

export type WatchStatus = "active" | "stopped" | "drained" | "expired";

export interface Watch {
  id: string;
  /** null: every configured relay. */
  relay: string | null;
  channelId: string;
  /** The first message, kept current with chat.update; updates go in its thread. */
  messageTs: string | null;
  createdBy: string;
  intervalMs: number;
  startedAtMs: number;
  nextDueMs: number;
  /** Updates posted so far; the next one has seq = updates + 1. */
  updates: number;
  drainedStreak: number;
  status: WatchStatus;
  stopReason: string | null;
  version: number;
}

/** One claimed update of a watch, as `claimUpdate` and `recordPosted` left it. */
export interface WatchUpdate {
  seq: number;
  dueMs: number;
  claimedAtMs: number;
  posted: boolean;
  messageTs: string | null;
}

export interface WatchRepo {
  create(w: Omit<Watch, "version" | "updates" | "drainedStreak" | "status" | "stopReason">): Promise<Watch>;
  get(id: string): Promise<Watch | undefined>;
  active(): Promise<Watch[]>;
  /** Compare-and-set on `version`; false when someone else changed the watch first. */
  update(
    id: string,
    expectedVersion: number,
    patch: Partial<Omit<Watch, "id" | "version">>,
  ): Promise<boolean>;
  /**
   * Claims update number `seq` of a watch; true for exactly one caller across processes.
   * Records what was posted so a restart neither repeats nor skips an update: a claim never
   * posted (its process died) can be taken over once it is `staleAfterMs` old, by one caller.
   */
  claimUpdate(
    watchId: string,
    seq: number,
    dueMs: number,
    claimedAtMs: number,
    staleAfterMs?: number,
  ): Promise<boolean>;
  recordPosted(watchId: string, seq: number, messageTs: string | null): Promise<void>;
  /** The watch's claimed updates, oldest first: when each ran and whether it was posted. */
  updateLog(watchId: string): Promise<WatchUpdate[]>;
}

export type ApprovalStatus =
  | "pending"
  | "approved"
  | "executing"
  | "done"
  | "failed"
  | "rejected"
  | "cancelled"
  | "expired";

export interface FrozenMessage {
  queueId: string;
  queueName: string;
  arrivalTime: number;
  sender: string;
  recipientDomains: string[];
  /** A restore's message: the archived copy it re-injects, as it was when the request froze it. */
  archive?: { id: string; sha256: string; bytes: number; ticket: string; deletedBy: string };
}

export interface ApprovalRequest {
  id: string;
  relay: string;
  action: "hold" | "release" | "requeue" | "delete" | "retry" | "restore";
  selector: string;
  ticket: string;
  reason: string;
  requester: string;
  channelId: string;
  messageTs: string | null;
  createdAtMs: number;
  expiresAtMs: number;
  status: ApprovalStatus;
  /** Exactly what runs: the IDs resolved at request time, with what identifies them. */
  frozen: FrozenMessage[];
  command: string;
  /** Run in batches of `size` IDs with `pauseMs` between them (large releases and requeues). */
  batch?: { size: number; pauseMs: number };
  approvers: string[];
  /** What running it did; null until it ran. */
  result: ExecutionResult | null;
  version: number;
}

export interface ApprovalRepo {
  create(r: Omit<ApprovalRequest, "version" | "status" | "approvers" | "result">): Promise<ApprovalRequest>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** Compare-and-set on status and version: true for exactly one caller. */
  transition(
    id: string,
    from: ApprovalStatus,
    expectedVersion: number,
    patch: Partial<Pick<ApprovalRequest, "status" | "approvers" | "result" | "messageTs">>,
  ): Promise<boolean>;
  pending(): Promise<ApprovalRequest[]>;
  /** Requests running now, or left running by a process that died. */
  executing(): Promise<ApprovalRequest[]>;
}

export type AuditKind =
  | "request"
  | "approve"
  | "reject"
  | "cancel"
  | "expire"
  | "execute"
  /** A button press refused (self-approval, outsider, expired, already decided…); nothing ran. */
  | "refuse"
  | "inspect"
  /** Messages archived whole before a delete, with their checksums. */
  | "archive"
  /** Archived messages re-injected (logged under the original ticket too). */
  | "restore"
  /** Archived messages past archive.retention removed. */
  | "prune"
  | "watch-start"
  | "watch-stop";

export interface AuditEntry {
  id: number;
  atMs: number;
  kind: AuditKind;
  actor: string;
  relay: string | null;
  ticket: string | null;
  requestId: string | null;
  detail: Record<string, unknown>;
}

export interface AuditRepo {
  append(e: Omit<AuditEntry, "id">): Promise<AuditEntry>;
  /** Newest first. */
  list(filter: { ticket?: string; relay?: string; limit: number }): Promise<AuditEntry[]>;
  /** Oldest first, for export. */
  all(): AsyncIterable<AuditEntry>;
}

export interface Lease {
  name: string;
  holder: string;
  expiresAtMs: number;
}

/**
 * Named leases with an expiry: one holder at a time across processes (e.g. the process that
 * runs the watch schedules). A holder that stops renewing loses the lease at `expiresAtMs`.
 */
export interface LeaseRepo {
  /**
   * Takes the lease until `nowMs + ttlMs` when it is free, expired at `nowMs`, or already
   * `holder`'s (then it is renewed). True for exactly one of several concurrent callers.
   */
  acquire(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Extends the lease only while `holder` still has it unexpired; false when it was lost. */
  renew(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Gives the lease up at once (a clean shutdown), when `holder` has it. */
  release(name: string, holder: string): Promise<void>;
  get(name: string): Promise<Lease | undefined>;
}

/** One message archived whole before a delete: where, its checksum, and what became of it. */
export interface ArchivedMessage {
  /** `<relay>/<ticket>/<queueId>-<arrival>`: the file's place under archive.path. */
  id: string;
  relay: string;
  ticket: string;
  /** The delete request that archived it. */
  requestId: string;
  queueId: string;
  queueName: string;
  arrivalTime: number;
  sender: string;
  recipientDomains: string[];
  path: string;
  bytes: number;
  /** SHA-256 of the archived file, hex, taken while it was written. */
  sha256: string;
  archivedAtMs: number;
  /** Who asked for the delete, and who approved it. */
  deletedBy: string;
  approvedBy: string[];
  /** The restore request that claimed it; restoredAtMs once it was handed to the relay. */
  restore: {
    requestId: string;
    claimedAtMs: number;
    restoredAtMs: number | null;
    newQueueId: string | null;
  } | null;
  prunedAtMs: number | null;
}

export interface ArchiveRepo {
  /** Records (or, for the same file archived again, replaces) one archived message. */
  record(m: Omit<ArchivedMessage, "restore" | "prunedAtMs">): Promise<void>;
  get(id: string): Promise<ArchivedMessage | undefined>;
  /** Oldest first; pruned ones only when asked. */
  list(filter: { relay?: string; ticket?: string; includePruned?: boolean }): Promise<ArchivedMessage[]>;
  /** Compare-and-set: true for exactly one restore request, and never once pruned. */
  claimRestore(id: string, requestId: string, nowMs: number): Promise<boolean>;
  /** The claim's message was handed to the relay; the new queue ID when known (may come later). */
  markRestored(id: string, requestId: string, atMs: number, newQueueId: string | null): Promise<void>;
  /** Gives a claim back when the message certainly did not reach the relay. */
  releaseRestore(id: string, requestId: string): Promise<void>;
  /** True once, for the caller that pruned it. */
  markPruned(id: string, nowMs: number): Promise<boolean>;
}
