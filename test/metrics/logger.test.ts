import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log/logger.js";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const logger = createLogger({
    write: (l) => lines.push(l),
    nowMs: () => Date.UTC(2025, 0, 2, 3, 4, 5, 6),
    level,
  });
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("JSON logger", () => {
  it("one object per line: time, level, msg first, then fields", () => {
    const { logger, lines, json } = capture();
    logger.log("info", "started", { relays: ["a", "b"], port: 3000 });
    expect(lines).toEqual([
      '{"time":"2025-01-02T03:04:05.006Z","level":"info","msg":"started","relays":["a","b"],"port":3000}\n',
    ]);
    // A field cannot forge the level or the message.
    logger.log("warn", "real", { level: "debug", msg: "forged", time: "never" });
    expect(json()[1]).toMatchObject({ level: "warn", msg: "real", time: "2025-01-02T03:04:05.006Z" });
  });

  it("Bolt's variadic calls: strings join, errors become err, objects merge", () => {
    const { logger, json } = capture();
    const err = Object.assign(new Error("boom"), { code: "ECONNRESET" });
    logger.error("request", "failed:", err, { requestId: 7 });
    expect(json()[0]).toMatchObject({
      level: "error",
      msg: "request failed:",
      requestId: 7,
      err: { name: "Error", message: "boom", code: "ECONNRESET" },
    });
    expect((json()[0]?.err as { stack?: string } | undefined)?.stack).toContain("boom");
  });

  it("levels filter, setLevel/getLevel, child fields, setName", () => {
    const { logger, json } = capture("warn");
    logger.info("hidden");
    logger.setLevel("debug");
    expect(logger.getLevel()).toBe("debug");
    logger.setName("bolt-app");
    logger.child({ relay: "relay-a" }).debug("seen");
    expect(json()).toEqual([
      { time: "2025-01-02T03:04:05.006Z", level: "debug", msg: "seen", logger: "bolt-app", relay: "relay-a" },
    ]);
  });

  it("never throws on what it is given: cycles, bigints, newlines stay on one line", () => {
    const { logger, lines } = capture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    logger.log("info", "line one\nline two", { cyclic, big: 10n });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      msg: "line one\nline two",
      big: "10",
      cyclic: { a: 1, self: "[circular]" },
    });
  });
});
