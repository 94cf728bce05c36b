/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
 * text exposition format (version 0.0.4). Label values are escaped (\\, ", newline); every
 * metric declares its label names, and a sample with other labels is refused.
 */

export type Labels = Record<string, string>;

/** Content-Type of `render()`'s output. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function escapeHelp(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? "")}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(",")}}` : "";
}

abstract class Metric<S> {
  protected readonly series = new Map<string, { values: string[]; state: S }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME_RE.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not valid`);
    for (const l of labelNames)
      if (!LABEL_RE.test(l) || l.startsWith("__") || l === "le")
        throw new Error(`label name ${JSON.stringify(l)} of ${name} is not valid`);
  }
  abstract readonly type: string;
  protected abstract initial(): S;
  protected abstract lines(labels: readonly string[], state: S): string[];

  protected entry(labels: Labels): { values: string[]; state: S } {
    const keys = Object.keys(labels);
    if (
      keys.length !== this.labelNames.length ||
      !this.labelNames.every((n) => typeof labels[n] === "string")
    )
      throw new Error(
        `${this.name} takes labels {${this.labelNames.join(", ")}}, was given {${keys.join(", ")}}`,
      );
    const values = this.labelNames.map((n) => labels[n] as string);
    const key = JSON.stringify(values);
    let e = this.series.get(key);
    if (!e) {
      e = { values, state: this.initial() };
      this.series.set(key, e);
    }
    return e;
  }

  /** Forgets every series whose labels include all of `match` (e.g. a relay's old causes). */
  remove(match: Partial<Labels> = {}): void {
    for (const [key, e] of this.series) {
      if (this.labelNames.every((n, i) => match[n] === undefined || match[n] === e.values[i]))
        this.series.delete(key);
    }
  }

  render(): string {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    const sorted = [...this.series.values()].sort((a, b) =>
      a.values.join("\u0000").localeCompare(b.values.join("\u0000")),
    );
    for (const e of sorted) out.push(...this.lines(e.values, e.state));
    return `${out.join("\n")}\n`;
  }
}

export class Counter extends Metric<{ v: number }> {
  readonly type = "counter";
  protected initial() {
    return { v: 0 };
  }
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (was given ${by})`);
    this.entry(labels).state.v += by;
  }
  get(labels: Labels = {}): number {
    return this.entry(labels).state.v;
  }
  protected lines(values: readonly string[], s: { v: number }): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${formatValue(s.v)}`];
  }
}

export class Gauge extends Metric<{ v: number }> {
  readonly type = "gauge";
  protected initial() {
    return { v: 0 };
  }
  set(labels: Labels, v: number): void {
    this.entry(labels).state.v = v;
  }
  protected lines(values: readonly string[], s: { v: number }): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${formatValue(s.v)}`];
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramState> {
  readonly type = "histogram";
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    if (buckets.some((b, i) => i > 0 && b <= (buckets[i - 1] as number)))
      throw new Error(`${name}: buckets must increase`);
  }
  protected initial(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(labels: Labels, v: number): void {
    const s = this.entry(labels).state;
    this.buckets.forEach((b, i) => {
      if (v <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += v;
    s.count += 1;
  }
  protected lines(values: readonly string[], s: HistogramState): string[] {
    const out = this.buckets.map(
      (b, i) =>
        `${this.name}_bucket${labelText(this.labelNames, values, `le="${formatValue(b)}"`)} ${s.counts[i] ?? 0}`,
    );
    out.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${s.count}`);
    out.push(`${this.name}_sum${labelText(this.labelNames, values)} ${formatValue(s.sum)}`);
    out.push(`${this.name}_count${labelText(this.labelNames, values)} ${s.count}`);
    return out;
  }
}

type AnyMetric = Counter | Gauge | Histogram;

export class Registry {
  private readonly metrics = new Map<string, AnyMetric>();
  private readonly collectors: (() => Promise<void> | void)[] = [];

  private add<M extends AnyMetric>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} is registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }
  /** Runs before every render (e.g. reads a count from the store); a failure is reported, not fatal. */
  onCollect(f: () => Promise<void> | void): void {
    this.collectors.push(f);
  }
  async render(onError?: (e: unknown) => void): Promise<string> {
    for (const c of this.collectors) {
      try {
        await c();
      } catch (e) {
        onError?.(e);
      }
    }
    return [...this.metrics.values()].map((m) => m.render()).join("");
  }
}
