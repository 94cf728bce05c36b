import { describe, expect, it } from "vitest";
import { QueueAccumulator } from "../../src/analysis/queue-summary.js";
import { buildSnapshot, type LoadReport, type RelaySnapshot } from "../../src/analysis/snapshot.js";
import { statusCard } from "../../src/cards/status.js";
import { statusText } from "../../src/cards/status-text.js";

const NOW = Date.UTC(2026, 0, 3, 11, 0, 0);
const LOAD = { load1: 1.234, load5: 0.5, load15: 0.25 };

function snapshot(load: LoadReport | null): RelaySnapshot {
  return buildSnapshot({
    relay: "relay-a",
    takenAtMs: NOW,
    queue: new QueueAccumulator(NOW / 1000).summary(),
    listingComplete: true,
    load,
    probeErrors: [],
  });
}

/** The card's health line (a context block) and the text card's load line. */
function loadLines(s: RelaySnapshot): { card: string; text: string } {
  const card = JSON.stringify(statusCard([s], { nowMs: NOW }).blocks);
  const text = statusText([s], NOW)
    .split("\n")
    .find((l) => l.trimStart().startsWith("load "));
  return { card: /load [^"]*/.exec(card)?.[0] ?? "", text: text?.trim() ?? "" };
}

describe("the load line: I/O stall from PSI, iowait from vmstat, or nothing", () => {
  it("says I/O stall over 10 s when PSI answered", () => {
    const l = loadLines(
      snapshot({ ...LOAD, ioPressurePercent: 12.71, ioPressureFullPercent: 3, iowaitPercent: null }),
    );
    expect(l.card).toBe("load 1.23 · I/O stall 13% (10 s)");
    expect(l.text).toBe("load 1.23 0.50 0.25, I/O stall 13% (10 s)");
  });

  it("does not round a small stall down to nothing", () => {
    const l = loadLines(
      snapshot({ ...LOAD, ioPressurePercent: 0.4, ioPressureFullPercent: 0, iowaitPercent: null }),
    );
    expect(l.card).toBe("load 1.23 · I/O stall under 1% (10 s)");
  });

  it("says iowait when only vmstat's fallback measured", () => {
    const l = loadLines(
      snapshot({ ...LOAD, ioPressurePercent: null, ioPressureFullPercent: null, iowaitPercent: 5 }),
    );
    expect(l.card).toBe("load 1.23 · iowait 5%");
    expect(l.text).toBe("load 1.23 0.50 0.25, iowait 5%");
  });

  it("shows the load alone when neither answered", () => {
    const l = loadLines(
      snapshot({ ...LOAD, ioPressurePercent: null, ioPressureFullPercent: null, iowaitPercent: null }),
    );
    expect(l.card).toBe("load 1.23");
    expect(l.text).toBe("load 1.23 0.50 0.25");
  });

  it("reads a snapshot stored before PSI (no ioPressure fields) as vmstat's iowait", () => {
    const stored = JSON.parse(JSON.stringify(snapshot(null))) as RelaySnapshot;
    stored.load = JSON.parse(JSON.stringify({ ...LOAD, iowaitPercent: 7 }));
    const l = loadLines(stored);
    expect(l.card).toBe("load 1.23 · iowait 7%");
    expect(l.text).toBe("load 1.23 0.50 0.25, iowait 7%");
  });
});
