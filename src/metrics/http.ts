import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as z from "zod";
import { formatIssues } from "../config.js";
import { MailqError } from "../errors.js";
import type { JsonLogger } from "../log/logger.js";
import { errorFields } from "../log/logger.js";
import type { Store } from "../store/store.js";
import type { MailqMetrics } from "./mailq.js";

/** The package version, from the package.json above src/metrics/ (tsx) or dist/chunks/ (the bundle). */
export const VERSION: string = (() => {
  for (const rel of ["../../package.json", "../package.json"]) {
    const url = new URL(rel, import.meta.url);
    if (!existsSync(url)) continue;
    try {
      const pkg = JSON.parse(readFileSync(url, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mailq-bot" && pkg.version) return pkg.version;
    } catch {}
  }
  return "unknown";
})();

export interface HealthOptions {
  store: Store;
  metrics: MailqMetrics;
  logger?: JsonLogger;
  startedAtMs: number;
  nowMs?: () => number;
  /** The store must answer within this. */
  storeTimeoutMs?: number;
  /** True once serve has begun to stop: it drains and takes no new work, so it is not healthy. */
  stopping?: () => boolean;
}

export interface Health {
  ok: boolean;
  store: { kind: Store["kind"]; reachable: boolean; error?: string };
  version: string;
  uptimeSeconds: number;
  /** Present (true) while serve drains before it exits. */
  stopping?: true;
}

/** A real round trip to the store (one indexed read), bounded in time. */
export async function checkHealth(o: HealthOptions): Promise<Health> {
  const nowMs = o.nowMs ?? Date.now;
  const store: Health["store"] = { kind: o.store.kind, reachable: true };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      o.store.leases.get("healthz"),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${o.storeTimeoutMs ?? 2000} ms`)),
          o.storeTimeoutMs ?? 2000,
        );
      }),
    ]);
  } catch (e) {
    store.reachable = false;
    store.error = (e as Error).message ?? String(e);
  } finally {
    clearTimeout(timer);
  }
  const stopping = o.stopping?.() === true;
  return {
    ok: store.reachable && !stopping,
    ...(stopping ? { stopping: true as const } : {}),
    store,
    version: VERSION,
    uptimeSeconds: Math.round((nowMs() - o.startedAtMs) / 1000),
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Route {
  path: string;
  method: string[];
  handler: Handler;
}

/** GET /metrics (Prometheus text) and GET /healthz (JSON; 503 when the store does not answer or serve is stopping). */
export function observabilityRoutes(o: HealthOptions): Route[] {
  const fail = (res: ServerResponse, e: unknown) => {
    o.logger?.log("error", "observability endpoint failed", { err: errorFields(e) });
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error\n");
  };
  return [
    {
      path: "/metrics",
      method: ["GET"],
      handler(_req, res) {
        o.metrics
          .render((e) => o.logger?.log("warn", "a metrics collector failed", { err: errorFields(e) }))
          .then((text) => {
            res.writeHead(200, { "content-type": o.metrics.registry.contentType });
            res.end(text);
          })
          .catch((e) => fail(res, e));
      },
    },
    {
      path: "/healthz",
      method: ["GET"],
      handler(_req, res) {
        checkHealth(o)
          .then((h) => {
            res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
            res.end(`${JSON.stringify(h)}\n`);
          })
          .catch((e) => fail(res, e));
      },
    },
  ];
}

const metricsEnvSchema = z.object({
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  METRICS_HOST: z.union([z.ipv4(), z.ipv6(), z.literal("localhost")]).default("127.0.0.1"),
});
export type MetricsEnv = z.infer<typeof metricsEnvSchema>;

/** Where the Socket Mode bot serves /metrics and /healthz (HTTP mode uses Bolt's port). */
export function parseMetricsEnv(env: NodeJS.ProcessEnv): MetricsEnv {
  const r = metricsEnvSchema.safeParse({
    METRICS_PORT: env.METRICS_PORT || undefined,
    METRICS_HOST: env.METRICS_HOST || undefined,
  });
  if (!r.success)
    throw new MailqError("CONFIG_INVALID", `Metrics environment is invalid:\n${formatIssues(r.error)}`, {
      hint: "Set METRICS_PORT to a port number and METRICS_HOST to an IP address to listen on (0.0.0.0 for all)",
    });
  return r.data;
}

/** Where /healthz listens: PORT in HTTP mode, METRICS_HOST:METRICS_PORT (9464) in Socket Mode. */
export function healthzUrl(env: NodeJS.ProcessEnv): string {
  if (!env.SLACK_APP_TOKEN) return `http://127.0.0.1:${Number(env.PORT || 3000)}/healthz`;
  const m = parseMetricsEnv(env);
  const host = m.METRICS_HOST === "0.0.0.0" || m.METRICS_HOST === "::" ? "127.0.0.1" : m.METRICS_HOST;
  return `http://${host.includes(":") ? `[${host}]` : host}:${m.METRICS_PORT}/healthz`;
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** A small HTTP server for the routes (Socket Mode has no HTTP server of its own). */
export async function startObservabilityServer(
  routes: Route[],
  listen: { port: number; host: string },
): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const route = routes.find((r) => r.path === path);
    if (!route) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /healthz\n");
      return;
    }
    if (!route.method.includes(req.method ?? "")) {
      res
        .writeHead(405, { allow: route.method.join(", "), "content-type": "text/plain" })
        .end("method not allowed\n");
      return;
    }
    route.handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
