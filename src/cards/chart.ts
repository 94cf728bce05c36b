import { createRequire } from "node:module";
import { Resvg } from "@resvg/resvg-js";
import dayjs from "dayjs";
import { QUEUE_NAMES, type QueueName } from "../parsers/postqueue.js";
import { formatDuration } from "../util/duration.js";

export interface DepthPoint {
  atMs: number;
  queues: Record<QueueName, number>;
}

/** Line colours per queue (also in the legend). */
export const QUEUE_COLOURS: Record<QueueName, [number, number, number]> = {
  maildrop: [148, 103, 189],
  incoming: [44, 160, 44],
  active: [31, 119, 180],
  deferred: [255, 127, 14],
  hold: [214, 39, 40],
};
// ECharts' ESM entry does not match its `export =` types under NodeNext; its CommonJS build does.
const requireHere = createRequire(import.meta.url);
const echarts: typeof import("echarts") = requireHere("echarts");
type EChartsOption = Parameters<ReturnType<(typeof echarts)["init"]>["setOption"]>[0];
type SeriesOption = Record<string, unknown>;

const hex = ([r, g, b]: [number, number, number]) =>
  `#${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;

// A font shipped in node_modules, so the labels render on a machine without any fonts.
const FONT_FILE = requireHere.resolve("open-sans-fonts/open-sans/Regular/OpenSans-Regular.ttf");
const FONT = "Open Sans";

const total = (p: DepthPoint) => QUEUE_NAMES.reduce((n, q) => n + p.queues[q], 0);

/** The drain trend from the last two points: per minute, and when the queue would be empty. */
export function drainTrend(points: DepthPoint[]): { perMinute: number; emptyAtMs: number | null } | null {
  const a = points.at(-2);
  const b = points.at(-1);
  if (!a || !b || b.atMs <= a.atMs) return null;
  const perMinute = (total(a) - total(b)) / ((b.atMs - a.atMs) / 60_000);
  const emptyAtMs = perMinute > 0 && total(b) > 0 ? b.atMs + (total(b) / perMinute) * 60_000 : null;
  return { perMinute, emptyAtMs };
}

export interface ChartOptions {
  width?: number;
  height?: number;
  /** The zone the time axis is labelled in; the process's own by default. */
  timeZoneName?: string;
}

/**
 * The chart's ECharts option: a time axis in local time, a value axis from zero, one line per
 * queue that had mail (with a legend), the drain trend from the last two points to the
 * estimated empty time, marked. Pure: points in, option out.
 */
export function depthChartOption(points: DepthPoint[], o: ChartOptions = {}): EChartsOption {
  const zone = o.timeZoneName ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const queues = QUEUE_NAMES.filter((q) => points.some((p) => p.queues[q] > 0));
  const trend = drainTrend(points);
  const last = points.at(-1);
  const first = points[0];
  // One point (or none) still gets a readable axis: a quarter of an hour either side.
  const pad = points.length > 1 ? 0 : 15 * 60_000;
  const end = Math.max(last?.atMs ?? 0, trend?.emptyAtMs ?? 0);
  const series: SeriesOption[] = queues.map((q, i) => ({
    name: q,
    type: "line",
    data: points.map((p) => [p.atMs, p.queues[q]]),
    color: hex(QUEUE_COLOURS[q]),
    lineStyle: { width: 3 },
    showSymbol: points.length <= 12,
    symbolSize: 8,
    // Each later line a little lower in the stack of drawing order: none hides another at zero.
    z: 10 - i,
    label: points.length === 1 ? { show: true, position: "top", fontSize: 14 } : { show: false },
    endLabel:
      points.length > 1
        ? { show: true, formatter: (x: { value: unknown }) => String((x.value as number[])[1]), fontSize: 13 }
        : undefined,
  }));
  // With several queues, their sum too: the drain trend continues from it.
  if (queues.length > 1)
    series.push({
      name: "total",
      type: "line",
      data: points.map((p) => [p.atMs, total(p)]),
      color: "#333333",
      lineStyle: { width: 2 },
      showSymbol: points.length <= 12,
      symbolSize: 6,
      z: 1,
      label: { show: false },
    });
  if (trend && last && trend.emptyAtMs !== null) {
    const eta = trend.emptyAtMs;
    series.push({
      name: `trend (${trend.perMinute.toFixed(1)}/min)`,
      type: "line",
      data: [
        [last.atMs, total(last)],
        [eta, 0],
      ],
      color: "#555555",
      lineStyle: { type: "dashed", width: 2 },
      showSymbol: false,
      markPoint: {
        symbol: "pin",
        symbolSize: 44,
        data: [{ coord: [eta, 0], value: `empty ~${dayjs(eta).format("HH:mm")}` }],
        label: { fontSize: 12, formatter: () => "ETA" },
      },
      markLine: {
        symbol: "none",
        label: {
          formatter: `empty ~${dayjs(eta).format("HH:mm")} (in ${formatDuration(eta - last.atMs)})`,
          fontSize: 13,
          position: "insideEndTop",
        },
        lineStyle: { color: "#555555", type: "dotted" },
        data: [{ xAxis: eta }],
      },
    });
  }
  return {
    animation: false,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: FONT, fontSize: 13 },
    title: {
      text: points.length
        ? `Queue depth since ${dayjs(first?.atMs).format("HH:mm")}`
        : "Queue depth: no data yet",
      left: 8,
      top: 6,
      textStyle: { fontSize: 16, fontFamily: FONT },
    },
    legend: { top: 8, right: 12, textStyle: { fontSize: 13, fontFamily: FONT } },
    grid: { left: 64, right: 32, top: 56, bottom: 56 },
    xAxis: {
      type: "time",
      name: `time (${zone})`,
      nameLocation: "middle",
      nameGap: 32,
      min: (first?.atMs ?? 0) - pad,
      max: end + pad,
      axisLabel: { fontSize: 13, formatter: (v: number) => dayjs(v).format("HH:mm"), hideOverlap: true },
      splitLine: { show: true, lineStyle: { color: "#eeeeee" } },
    },
    yAxis: {
      type: "value",
      name: "messages",
      min: 0,
      minInterval: 1,
      axisLabel: { fontSize: 13 },
      splitLine: { lineStyle: { color: "#e6e6e6" } },
    },
    series,
  };
}

/** The chart as SVG (ECharts' server-side renderer). */
export function depthChartSvg(points: DepthPoint[], o: ChartOptions = {}): string {
  const chart = echarts.init(null, null, {
    renderer: "svg",
    ssr: true,
    width: o.width ?? 800,
    height: o.height ?? 400,
  });
  try {
    chart.setOption(depthChartOption(points, o));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/**
 * Queue depth per queue over time as a PNG for Slack (800×400 reads at its preview size): the
 * SVG rasterised by resvg with a font from node_modules; no system library or font needed.
 */
export function depthChart(points: DepthPoint[], o: ChartOptions = {}): Buffer {
  const svg = depthChartSvg(points, o);
  const png = new Resvg(svg, {
    font: { fontFiles: [FONT_FILE], loadSystemFonts: false, defaultFontFamily: FONT },
    background: "#ffffff",
  })
    .render()
    .asPng();
  return Buffer.from(png);
}
