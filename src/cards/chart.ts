import { PNG } from "pngjs";
import { QUEUE_NAMES, type QueueName } from "../parsers/postqueue.js";

export interface DepthPoint {
  atMs: number;
  queues: Record<QueueName, number>;
}

/** Line colours per queue; the progress message names them, the PNG has no text. */
export const QUEUE_COLOURS: Record<QueueName, [number, number, number]> = {
  maildrop: [148, 103, 189],
  incoming: [44, 160, 44],
  active: [31, 119, 180],
  deferred: [255, 127, 14],
  hold: [214, 39, 40],
};

/** Queue depth per queue over time as a PNG, drawn in-process. Pure: points in, bytes out. */
export function depthChart(points: DepthPoint[], width = 640, height = 240): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(255);
  const pad = 16;
  const set = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 4;
    png.data[i] = r;
    png.data[i + 1] = g;
    png.data[i + 2] = b;
    png.data[i + 3] = 255;
  };
  const line = (x0: number, y0: number, x1: number, y1: number, c: [number, number, number]) => {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) {
      const x = Math.round(x0 + ((x1 - x0) * s) / steps);
      const y = Math.round(y0 + ((y1 - y0) * s) / steps);
      set(x, y, c);
      set(x, y + 1, c);
    }
  };
  const grey: [number, number, number] = [160, 160, 160];
  line(pad, height - pad, width - pad, height - pad, grey);
  line(pad, pad, pad, height - pad, grey);
  if (points.length === 0) return PNG.sync.write(png);
  const t0 = points[0]?.atMs ?? 0;
  const t1 = points[points.length - 1]?.atMs ?? t0;
  const max = Math.max(1, ...points.flatMap((p) => QUEUE_NAMES.map((q) => p.queues[q])));
  const xOf = (t: number) => pad + Math.round(((t - t0) / Math.max(1, t1 - t0)) * (width - 2 * pad));
  const yOf = (v: number) => height - pad - Math.round((v / max) * (height - 2 * pad));
  for (const q of QUEUE_NAMES) {
    if (points.every((p) => p.queues[q] === 0)) continue;
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1] as DepthPoint;
      const b = points[i] as DepthPoint;
      line(xOf(a.atMs), yOf(a.queues[q]), xOf(b.atMs), yOf(b.queues[q]), QUEUE_COLOURS[q]);
    }
    if (points.length === 1) {
      const p = points[0] as DepthPoint;
      line(xOf(p.atMs) - 2, yOf(p.queues[q]), xOf(p.atMs) + 2, yOf(p.queues[q]), QUEUE_COLOURS[q]);
    }
  }
  return PNG.sync.write(png);
}
