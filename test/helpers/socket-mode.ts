import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { type FakeSlack, slashCommandBody } from "./slack.js";

/**
 * Slack's Socket Mode, on loopback: the fake Web API's apps.connections.open hands out this
 * server's ws:// URL, the server says hello, sends envelopes, and collects each ack by envelope_id.
 */
export interface FakeSocketMode {
  /** The authorization header of each apps.connections.open. */
  opens: string[];
  /** Resolves when the bot's socket is connected and greeted. */
  connected: Promise<void>;
  send(envelope: string): void;
  /** The ack's payload for one envelope, or a rejection after 5 s. */
  ackOf(id: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startFakeSocketMode(slack: FakeSlack): Promise<FakeSocketMode> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const acks = new Map<string, (payload: Record<string, unknown>) => void>();
  const opens: string[] = [];
  let socket: WebSocket | undefined;
  const connected = new Promise<void>((resolve) => {
    wss.on("connection", (ws) => {
      socket = ws;
      ws.on("message", (raw) => {
        const msg = JSON.parse(String(raw));
        acks.get(msg.envelope_id)?.(msg.payload ?? {});
      });
      ws.send(
        JSON.stringify({
          type: "hello",
          num_connections: 1,
          debug_info: { host: "lab" },
          connection_info: { app_id: "AMAILQ" },
        }),
      );
      resolve();
    });
  });
  slack.on("apps.connections.open", (c) => {
    opens.push(String(c.headers.authorization));
    return { body: { ok: true, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link` } };
  });
  return {
    opens,
    connected,
    send(envelope) {
      if (!socket) throw new Error("no Socket Mode connection yet: await connected first");
      socket.send(envelope);
    },
    ackOf: (id) =>
      new Promise((resolve, reject) => {
        acks.set(id, resolve);
        setTimeout(() => reject(new Error(`no ack for ${id}`)), 5000);
      }),
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

/** A /mailq slash command as Socket Mode delivers it: the fields an HTTP slash command posts, in an envelope. */
export function slashEnvelope(id: string, text: string, responseUrl: string, channel = "CINCIDENT"): string {
  const fields = new URLSearchParams(
    slashCommandBody({ text, response_url: responseUrl, channel_id: channel }),
  );
  return JSON.stringify({
    envelope_id: id,
    type: "slash_commands",
    accepts_response_payload: true,
    payload: Object.fromEntries(fields),
  });
}
