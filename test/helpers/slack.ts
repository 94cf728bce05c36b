import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlackCall {
  method: string;
  /** Form fields or JSON body; `blocks` arrives as a JSON string in forms and is parsed here. */
  body: Record<string, unknown>;
  headers: IncomingMessage["headers"];
  atMs: number;
  /** What the fake answered (e.g. chat.postMessage's ts). */
  response?: unknown;
}

/**
 * A mailbox as a person would recognise it (local@domain.tld). Written independently of the
 * bot's own masking so that a change there cannot make this check agree with it.
 */
export const MAILBOX_RE = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z][A-Za-z0-9-]*/;

/** What everyone in a channel sees: posts, updates, in_channel responses, file comments. */
export function isChannelVisible(c: Pick<SlackCall, "method" | "body">): boolean {
  if (c.method === "chat.postMessage" || c.method === "chat.update") return true;
  if (c.method === "files.completeUploadExternal") return true;
  return c.method === "response_url" && c.body.response_type === "in_channel";
}

/** The mailboxes a call shows a channel (none for ephemeral answers). */
export function mailboxesShown(c: Pick<SlackCall, "method" | "body">): string[] {
  if (!isChannelVisible(c)) return [];
  const { headers: _h, ...body } = c.body as Record<string, unknown>;
  const text = JSON.stringify(body);
  return [...text.matchAll(new RegExp(MAILBOX_RE.source, "g"))].map((m) => m[0]);
}

export type MethodHandler = (
  call: SlackCall,
) => { status?: number; headers?: Record<string, string>; body: unknown } | undefined;

export interface FakeSlack {
  /** Base URL for SLACK_API_URL, ending in /api/. */
  apiUrl: string;
  /** A response_url the bot can POST to; calls are recorded as method "response_url". */
  responseUrl: (id?: string) => string;
  calls: SlackCall[];
  /** Channel-visible calls that showed a mailbox; close() fails when there is any. */
  mailboxLeaks(): { method: string; shown: string[] }[];
  callsTo(method: string): SlackCall[];
  /** Overrides the answer for one Web API method (return undefined to fall back). */
  on(method: string, handler: MethodHandler): void;
  waitFor(method: string, predicate?: (c: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes("application/json")) return JSON.parse(raw);
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const structured = k === "blocks" || k === "attachments" || k === "view" || k === "payload";
    out[k] = structured && (v.startsWith("[") || v.startsWith("{")) ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** A loopback stand-in for Slack's Web API that records every call. */
export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const handlers = new Map<string, MethodHandler>();
  const waiters: { method: string; pred: (c: SlackCall) => boolean; resolve: (c: SlackCall) => void }[] = [];
  let ts = 1_700_000_000;
  let fileId = 0;
  let port = 0;
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = url.pathname.startsWith("/api/")
      ? url.pathname.slice(5)
      : url.pathname.startsWith("/upload/")
        ? "file_upload"
        : "response_url";
    const call: SlackCall = {
      method,
      body: parseBody(raw, req.headers["content-type"]),
      headers: req.headers,
      atMs: Date.now(),
    };
    if (method === "response_url") call.body.response_url_id = url.pathname.split("/").pop();
    calls.push(call);
    const custom = handlers.get(method)?.(call);
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    if (custom) {
      status = custom.status ?? 200;
      body = custom.body;
      headers = custom.headers ?? {};
    } else if (method === "auth.test") {
      body = { ok: true, user_id: "UBOT", bot_id: "BBOT", team_id: "TLAB", user: "mailq-bot", team: "lab" };
    } else if (method === "files.getUploadURLExternal") {
      fileId += 1;
      body = { ok: true, upload_url: `http://127.0.0.1:${port}/upload/F${fileId}`, file_id: `F${fileId}` };
    } else if (method === "file_upload") {
      // multipart or raw: a whole PNG has its IHDR and IEND chunks
      call.body = { bytes: raw.length, png: raw.includes("IHDR") && raw.includes("IEND") };
      body = "OK";
    } else if (method === "files.completeUploadExternal") {
      body = { ok: true, files: [{ id: `F${fileId}` }] };
    } else if (method === "chat.postMessage") {
      ts += 1;
      body = { ok: true, channel: call.body.channel, ts: `${ts}.000100`, message: { text: call.body.text } };
    } else {
      body = { ok: true };
    }
    call.response = body;
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
    for (const w of [...waiters]) {
      if (w.method === method && w.pred(call)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(call);
      }
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  const leaks = () =>
    calls.map((c) => ({ method: c.method, shown: mailboxesShown(c) })).filter((l) => l.shown.length);
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    responseUrl: (id = "r1") => `http://127.0.0.1:${port}/response/${id}`,
    calls,
    mailboxLeaks: leaks,
    callsTo: (m) => calls.filter((c) => c.method === m),
    on: (m, h) => void handlers.set(m, h),
    waitFor(method, pred = () => true, timeoutMs = 15_000) {
      const found = calls.find((c) => c.method === method && pred(c));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { method, pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(
              new Error(
                `no ${method} call within ${timeoutMs} ms; calls: ${calls.map((c) => c.method).join(", ")}`,
              ),
            );
          }
        }, timeoutMs);
      });
    },
    // Every test that talks to Slack also proves that no channel saw a mailbox.
    close: () =>
      new Promise((r, reject) => {
        server.closeAllConnections();
        server.close(() => {
          const found = leaks();
          if (found.length)
            reject(new Error(`a channel was shown mailboxes: ${JSON.stringify(found.slice(0, 5))}`));
          else r();
        });
      }),
  };
}

/** Slack's v0 request signature over `v0:<timestamp>:<body>`. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export interface SignedPostOptions {
  secret: string;
  /** Seconds; defaults to now. */
  timestamp?: number;
  /** Overrides the computed signature (to test refusals). */
  signature?: string;
}

export async function postSigned(
  url: string,
  body: string,
  o: SignedPostOptions,
): Promise<{ status: number; text: string; ms: number }> {
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": o.signature ?? sign(o.secret, timestamp, body),
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

export function slashCommandBody(fields: {
  text: string;
  user_id?: string;
  channel_id?: string;
  response_url: string;
  command?: string;
  team_id?: string;
}): string {
  return new URLSearchParams({
    token: "legacy-unused",
    team_id: fields.team_id ?? "TLAB",
    team_domain: "lab",
    channel_id: fields.channel_id ?? "CINCIDENT",
    channel_name: "incident",
    user_id: fields.user_id ?? "UALICE",
    user_name: "alice",
    command: fields.command ?? "/mailq",
    text: fields.text,
    api_app_id: "AMAILQ",
    response_url: fields.response_url,
    trigger_id: "1.2.3",
  }).toString();
}

export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** The ticket form submitted by `user`, as Slack sends it: the view the bot opened, filled in. */
export function ticketFormBody(o: {
  view: { callback_id: string; private_metadata: string };
  ticket: string;
  reason?: string;
  user?: string;
}): string {
  const user = o.user ?? "UALICE";
  return interactionBody({
    type: "view_submission",
    team: { id: "TLAB", domain: "lab" },
    user: { id: user, username: user.toLowerCase(), team_id: "TLAB" },
    api_app_id: "AMAILQ",
    token: "unused",
    view: {
      id: "V1",
      type: "modal",
      callback_id: o.view.callback_id,
      private_metadata: o.view.private_metadata,
      state: {
        values: {
          ticket: { value: { type: "plain_text_input", value: o.ticket } },
          ...(o.reason === undefined
            ? {}
            : { reason: { value: { type: "plain_text_input", value: o.reason } } }),
        },
      },
    },
  });
}

/** A person pressing one button on a message in a channel, as Slack sends it. */
export function buttonPressBody(o: {
  user: string;
  actionId: string;
  blockId: string;
  value: string;
  responseUrl: string;
  channel?: string;
  /** The workspace the press came from, and the presser's home one (another: a Slack Connect guest). */
  team?: string;
  userTeam?: string;
}): string {
  const channel = o.channel ?? "CINCIDENT";
  return interactionBody({
    type: "block_actions",
    team: { id: o.team ?? "TLAB", domain: "lab" },
    user: { id: o.user, username: o.user.toLowerCase(), team_id: o.userTeam ?? o.team ?? "TLAB" },
    api_app_id: "AMAILQ",
    token: "unused",
    trigger_id: "1.2.3",
    container: { type: "message", channel_id: channel, message_ts: "1.1" },
    channel: { id: channel, name: "incident" },
    response_url: o.responseUrl,
    actions: [
      { type: "button", action_id: o.actionId, block_id: o.blockId, value: o.value, action_ts: "1.2" },
    ],
  });
}

/** Presses a button of an approval card as `user`; returns what the bot then whispered to that user. */
export async function pressApproval(
  slack: FakeSlack,
  bot: { url: string; secret: string },
  o: { id: string; user: string; action?: "approve" | "reject" | "cancel"; timeoutMs?: number },
): Promise<string> {
  const n = slack.calls.length;
  const r = await postSigned(
    bot.url,
    buttonPressBody({
      user: o.user,
      actionId: `mailq_${o.action ?? "approve"}`,
      blockId: `mailq_approval:${o.id}`,
      value: o.id,
      responseUrl: slack.responseUrl("press"),
    }),
    { secret: bot.secret },
  );
  if (r.status !== 200) throw new Error(`the press got HTTP ${r.status}: ${r.text}`);
  const said = await slack.waitFor(
    "chat.postEphemeral",
    (c) => c.body.user === o.user && slack.calls.indexOf(c) >= n,
    o.timeoutMs ?? 30_000,
  );
  return String(said.body.text);
}
