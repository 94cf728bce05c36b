import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  type DepthPoint,
  depthChart,
  depthChartOption,
  depthChartSvg,
  drainTrend,
  QUEUE_COLOURS,
} from "../../src/cards/chart.js";
import type { QueueName } from "../../src/parsers/postqueue.js";

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 3, 10, 0, 0);
const point = (minute: number, q: Partial<Record<QueueName, number>>): DepthPoint => ({
  atMs: T0 + minute * MIN,
  queues: { maildrop: 0, incoming: 0, active: 0, deferred: 0, hold: 0, ...q },
});
const draining = [
  point(0, { deferred: 166, active: 12, hold: 10 }),
  point(15, { deferred: 150, active: 8, hold: 10 }),
  point(30, { deferred: 131, hold: 10 }),
  point(45, { deferred: 105, hold: 10 }),
];

/** Pixels within a few levels of a colour: how many, and their x range. */
function pixels(png: PNG, [r, g, b]: [number, number, number]) {
  const xs: number[] = [];
  for (let y = 0; y < png.height; y++)
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      const d =
        Math.abs((png.data[i] ?? 0) - r) +
        Math.abs((png.data[i + 1] ?? 0) - g) +
        Math.abs((png.data[i + 2] ?? 0) - b);
      if (d < 12) xs.push(x);
    }
  return { count: xs.length, first: Math.min(...xs), last: Math.max(...xs) };
}

describe("the queue depth chart (ECharts SVG, rasterised by resvg)", () => {
  it("has a local-time axis, a value axis from zero, a line and a legend entry per queue with mail", () => {
    const o = depthChartOption(draining, { timeZoneName: "UTC" }) as unknown as Record<string, unknown>;
    const y = o.yAxis as { min: number; name: string };
    expect(y.min).toBe(0);
    const x = o.xAxis as { type: string; name: string; axisLabel: { formatter: (v: number) => string } };
    expect(x.type).toBe("time");
    expect(x.name).toBe("time (UTC)");
    const names = (o.series as { name: string }[]).map((s) => s.name);
    expect(names).toEqual(["active", "deferred", "hold", "total", "trend (1.7/min)"]);
    // the SVG carries the words a reader needs: times, values, the legend and the ETA
    const svg = depthChartSvg(draining, { timeZoneName: "UTC" });
    for (const word of ["deferred", "hold", "active", "total", "messages", "time (UTC)", "105", "empty ~"])
      expect(svg).toContain(word);
    expect(svg).toMatch(/>\s*0\s*</); // the value axis starts at 0
  });

  it("marks the drain trend and the time the queue would be empty", () => {
    const t = drainTrend(draining);
    expect(t?.perMinute).toBeCloseTo((141 - 115) / 15, 5);
    expect(t?.emptyAtMs).toBe(T0 + 45 * MIN + (115 / ((141 - 115) / 15)) * MIN);
    expect(drainTrend([point(0, { deferred: 5 }), point(15, { deferred: 9 })])?.emptyAtMs).toBeNull();
    expect(drainTrend([point(0, { deferred: 5 })])).toBeNull();
  });

  it("renders at Slack's preview size, each queue in its colour, hold not hiding active at zero", () => {
    const png = PNG.sync.read(depthChart(draining));
    expect([png.width, png.height]).toEqual([800, 400]);
    const deferred = pixels(png, QUEUE_COLOURS.deferred);
    const active = pixels(png, QUEUE_COLOURS.active);
    const hold = pixels(png, QUEUE_COLOURS.hold);
    expect(deferred.count).toBeGreaterThan(200);
    expect(hold.count).toBeGreaterThan(200);
    // active drops to zero and stays there, under the hold line's level: still visible to its end
    expect(active.count).toBeGreaterThan(200);
    expect(active.last - active.first).toBeGreaterThan(250);
    // queues that never had mail are not drawn
    expect(pixels(png, QUEUE_COLOURS.incoming).count).toBe(0);
  });

  it("reads with one point: the point, its value and a real time axis around it", () => {
    const one = [point(0, { deferred: 166, hold: 10 })];
    const svg = depthChartSvg(one, { timeZoneName: "UTC" });
    expect(svg).toContain("166");
    expect(svg).toContain(">10<");
    const png = PNG.sync.read(depthChart(one));
    expect(pixels(png, QUEUE_COLOURS.deferred).count).toBeGreaterThan(20);
  });

  it.each([
    ["no points", []],
    ["an empty queue throughout", [point(0, {}), point(15, {})]],
  ])("renders a valid PNG with %s", (_name, points) => {
    const png = PNG.sync.read(depthChart(points));
    expect(png.width).toBe(800);
    expect(pixels(png, QUEUE_COLOURS.deferred).count).toBe(0);
  });
});
