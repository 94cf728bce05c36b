import type { ApprovalSlack } from "../actions/approval.js";

interface ClientLike {
  chat: {
    postMessage(a: Record<string, unknown>): Promise<{ ts?: string }>;
    update(a: Record<string, unknown>): Promise<unknown>;
  };
  usergroups?: { users: { list(a: Record<string, unknown>): Promise<{ users?: string[] }> } };
}

/** The approval flow's Slack, on Bolt's WebClient. */
export function approvalSlack(client: ClientLike): ApprovalSlack {
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
