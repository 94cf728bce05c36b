import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runMain } from "../helpers/cli.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A real HTTP server on loopback answering /healthz with `status`; its port. */
async function healthz(status: number): Promise<number> {
  server = createServer((req, res) => {
    res.statusCode = req.url === "/healthz" ? status : 404;
    res.end(status === 200 ? "ok" : "not ready");
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

describe("mailq-bot healthcheck", () => {
  it("exits 0 when /healthz answers 200 on the port the bot serves it", async () => {
    const port = await healthz(200);
    const r = await runMain(["healthcheck"], { env: { PORT: String(port) } });
    expect(r).toMatchObject({ code: 0, err: "" });
  });

  it("exits 1 naming the URL and the answer when /healthz is not ready", async () => {
    const port = await healthz(503);
    const r = await runMain(["healthcheck"], { env: { PORT: String(port) } });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`http://127.0.0.1:${port}/healthz answered HTTP 503: not ready`);
  });

  it("refuses a bad METRICS_PORT at once, even with --wait, and says what to set", async () => {
    const started = Date.now();
    const r = await runMain(["healthcheck", "--wait", "30s"], {
      env: { SLACK_APP_TOKEN: "xapp-1-test", METRICS_PORT: "not-a-port" },
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mailq-bot: healthcheck: .*METRICS_PORT/s);
    // It did not wait out the 30 s for a problem no wait can mend.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
