import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { type DepthPoint, depthChart, QUEUE_COLOURS } from "../../src/cards/chart.js";
import type { QueueName } from "../../src/parsers/postqueue.js";

const MIN = 60_000;
const point = (minute: number, q: Partial<Record<QueueName, number>>): DepthPoint => ({
  atMs: minute * MIN,
  queues: { maildrop: 0, incoming: 0, active: 0, deferred: 0, hold: 0, ...q },
});

/** Pixels of one colour: their x range and, per x, the topmost y. */
function trace(png: PNG, [r, g, b]: [number, number, number]) {
  const top = new Map<number, number>();
  for (let y = 0; y < png.height; y++)
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b && !top.has(x)) top.set(x, y);
    }
  const xs = [...top.keys()].sort((a, z) => a - z);
  return { count: top.size, first: xs[0] ?? -1, last: xs.at(-1) ?? -1, yAt: (x: number) => top.get(x) };
}

describe("depthChart", () => {
  it("draws one line per queue that had mail, in its colour, falling as the queue drains", () => {
    const png = PNG.sync.read(
      depthChart(
        [
          point(0, { deferred: 900, hold: 100 }),
          point(15, { deferred: 600, hold: 100 }),
          point(30, { deferred: 0 }),
        ],
        640,
        240,
      ),
    );
    expect([png.width, png.height]).toEqual([640, 240]);
    const deferred = trace(png, QUEUE_COLOURS.deferred);
    const hold = trace(png, QUEUE_COLOURS.hold);
    // across the plot, left to right (16 px padding)
    expect(deferred.first).toBe(16);
    // (the hold line, drawn last, covers the last pixels where both reach 0)
    expect(deferred.last).toBeGreaterThanOrEqual(640 - 16 - 4);
    // y grows downwards: the start (900, the maximum) is at the top, the end (0) on the axis
    expect(deferred.yAt(16)).toBe(16);
    expect(deferred.yAt(deferred.last)).toBeGreaterThanOrEqual(240 - 16 - 2);
    expect(hold.count).toBeGreaterThan(0);
    expect(hold.yAt(16)).toBeGreaterThan(deferred.yAt(16) as number);
    // queues that never had mail are not drawn
    for (const q of ["active", "incoming", "maildrop"] as const)
      expect(trace(png, QUEUE_COLOURS[q]).count).toBe(0);
  });

  it.each([
    ["no points", []],
    ["one point", [point(0, { deferred: 5 })]],
    ["an empty queue throughout", [point(0, {}), point(15, {})]],
  ])("renders a valid PNG with %s", (_name, points) => {
    const png = PNG.sync.read(depthChart(points));
    expect(png.width).toBe(640);
    const drawn = trace(png, QUEUE_COLOURS.deferred).count;
    expect(drawn > 0).toBe(points.some((p) => p.queues.deferred > 0));
  });
});
