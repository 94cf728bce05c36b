import { redactDeep } from "../cards/privacy.js";

interface ChatLike {
  postMessage(args: Record<string, unknown>): Promise<{ ok?: boolean; ts?: string; channel?: string }>;
  update(args: Record<string, unknown>): Promise<unknown>;
}

/**
 * The last line of defence: whatever a card forgot, no message the bot posts or updates in a
 * channel carries a mailbox. Ephemeral answers (inspect's envelope for one authorised person)
 * pass untouched.
 */
export function channelSafe<C extends { chat: ChatLike }>(client: C): C {
  const chat = client.chat;
  const safeChat = Object.create(chat) as C["chat"];
  safeChat.postMessage = (args) => chat.postMessage.call(chat, redactDeep(args));
  safeChat.update = (args) => chat.update.call(chat, redactDeep(args));
  const safe = Object.create(client) as C;
  Object.defineProperty(safe, "chat", { value: safeChat });
  return safe;
}
