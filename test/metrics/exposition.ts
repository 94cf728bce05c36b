/** A strict reader of the Prometheus text format, independent of the writer it checks. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

function unescapeText(v: string, set: Record<string, string>): string {
  return v.replace(/\\(.)/g, (_, c: string) => {
    const r = set[c];
    if (r === undefined) throw new Error(`bad escape \\${c}`);
    return r;
  });
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      help.set(m[1] as string, unescapeText(m[2] as string, { "\\": "\\", n: "\n" }));
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      types.set(m[1] as string, m[2] as string);
      continue;
    }
    if (line.startsWith("#")) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$)/gy;
    let pos = 0;
    while (pos < body.length) {
      re.lastIndex = pos;
      const l = re.exec(body);
      if (!l) throw new Error(`bad labels in ${JSON.stringify(line)}`);
      labels[l[1] as string] = unescapeText(l[2] as string, { "\\": "\\", '"': '"', n: "\n" });
      pos = re.lastIndex;
    }
    // As Prometheus reads it (Go's ParseFloat): NaN and Inf in any case; prom-client writes "Nan".
    const raw = (m[3] as string).toLowerCase();
    const value = raw === "+inf" || raw === "inf" ? Infinity : raw === "-inf" ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== "nan") throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.push({ name: m[1] as string, labels, value });
  }
  return { samples, types, help };
}

/** The one sample with this name whose labels include `labels`; undefined when none. */
export function value(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = e.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
