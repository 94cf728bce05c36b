import { type ApprovalSlack, expireDue, type FlowDeps, failAbandoned } from "../actions/approval.js";
import { pruneArchive } from "../archive/maintenance.js";
import { channelSafe } from "./private.js";

interface ClientLike {
  chat: {
    postMessage(a: Record<string, unknown>): Promise<{ ts?: string }>;
    update(a: Record<string, unknown>): Promise<unknown>;
  };
  usergroups?: { users: { list(a: Record<string, unknown>): Promise<{ users?: string[] }> } };
}

/** The approval flow's Slack, on Bolt's WebClient. */
export function approvalSlack(raw: ClientLike): ApprovalSlack {
  const client = channelSafe(raw);
  return {
    async post(channel, card) {
      return (await client.chat.postMessage({ channel, text: card.text, blocks: card.blocks })).ts;
    },
    async update(channel, ts, card) {
      await client.chat.update({ channel, ts, text: card.text, blocks: card.blocks });
    },
    async groupMembers(usergroup) {
      if (!client.usergroups) return [];
      return (await client.usergroups.users.list({ usergroup })).users ?? [];
    },
  };
}

/**
 * Expires pending requests when their time is up, so a stale card loses its buttons without
 * anyone pressing one. Every replica may run it: each expiry is a compare-and-set.
 */
export function startExpirySweeper(
  deps: Omit<FlowDeps, "slack"> & { client: ClientLike },
  o: { intervalMs?: number; onError?: (e: unknown) => void } = {},
): { stop(): void; sweep(): Promise<number> } {
  const flow: FlowDeps = { ...deps, slack: approvalSlack(deps.client) };
  let running = false;
  const sweep = async () => {
    if (running) return 0;
    running = true;
    try {
      // Past their expiry: expired. Left running by a dead process: failed, and said so.
      const n = (await expireDue(flow)) + (await failAbandoned(flow));
      // Past archive.retention: pruned, with an audit line (once, whichever replica gets there first).
      await pruneArchive(flow.store, flow.config.archive.retention, flow.nowMs());
      return n;
    } catch (e) {
      o.onError?.(e);
      return 0;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), o.intervalMs ?? 30_000);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
