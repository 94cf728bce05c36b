import { describe, expect, it } from "vitest";
import {
  ago,
  formatDuration,
  parseDuration,
  relativeTo,
  utcMinute,
  utcSecond,
} from "../../src/util/duration.js";

const T = Date.UTC(2026, 0, 3, 10, 0, 0);
const S = 1000;
const MIN = 60 * S;

describe("durations and relative times (dayjs)", () => {
  it.each([
    [0, "0s"],
    [61 * S, "1m 1s"],
    [60 * MIN, "1h"],
    [25 * 60 * MIN, "25h"],
    [(2 * 24 + 7) * 60 * MIN, "2d 7h"],
    // past a month: still days and hours, not dayjs's calendar months
    [40 * 24 * 60 * MIN + 3 * 60 * MIN, "40d 3h"],
    [Number.POSITIVE_INFINITY, "∞"],
  ])("formatDuration(%d) = %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("parses what the config and the commands accept", () => {
    expect(parseDuration("90s")).toBe(90 * S);
    expect(parseDuration("15m")).toBe(15 * MIN);
    expect(parseDuration("5d")).toBe(5 * 24 * 60 * MIN);
    expect(parseDuration("15 minutes")).toBeUndefined();
  });

  it("keeps minutes up to two hours and hours up to two days", () => {
    expect(relativeTo(T - 3 * S, T)).toBe("a few seconds ago");
    expect(relativeTo(T - 30 * S, T)).toBe("30 seconds ago");
    expect(relativeTo(T - 50 * MIN, T)).toBe("50 minutes ago");
    expect(relativeTo(T - 118 * MIN, T)).toBe("118 minutes ago");
    expect(relativeTo(T + 36 * 60 * MIN, T)).toBe("in 36 hours");
    expect(relativeTo(T - 5 * 24 * 60 * MIN, T)).toBe("5 days ago");
    expect(ago(15 * MIN)).toBe("15 minutes ago");
  });

  it("writes UTC fallbacks whatever the machine's zone", () => {
    expect(utcMinute(T + 30 * MIN + 5 * S)).toBe("2026-01-03 10:30 UTC");
    expect(utcSecond(T + 5 * S)).toBe("2026-01-03 10:00:05Z");
  });
});
