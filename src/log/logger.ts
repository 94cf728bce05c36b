export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

const SEVERITY: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One JSON object per line: `time`, `level`, `msg`, then the fields. The variadic methods take
 * what a framework logs (src/slack/logger.ts hands them to Bolt), so its messages come out in
 * the same shape: strings join into `msg`, an Error becomes `err` {name, message, stack}, plain
 * objects merge into the fields.
 */
export interface JsonLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  /** Unknown level names leave the level as it was. */
  setLevel(level: string): void;
  getLevel(): Level;
  setName(name: string): void;
  log(level: Level, msg: string, fields?: Fields): void;
  /** The same output with these fields on every line. */
  child(fields: Fields): JsonLogger;
}

export interface LoggerOptions {
  level?: Level;
  /** Written with its trailing newline; defaults to stderr. */
  write?: (line: string) => void;
  nowMs?: () => number;
  name?: string;
  fields?: Fields;
}

export function errorFields(e: unknown): Fields {
  if (e instanceof Error) {
    const out: Fields = { name: e.name, message: e.message };
    const code = (e as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (e.stack) out.stack = e.stack;
    return out;
  }
  return { message: String(e) };
}

/** JSON.stringify that never throws: bigints as strings, cycles cut, errors spelled out. */
function stringify(o: Fields): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(o, (_k, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Error) return errorFields(v);
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[circular]";
      seen.add(v);
    }
    return v;
  });
}

function isPlainObject(v: unknown): v is Fields {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function parseLevel(s: string | undefined, fallback: Level = "info"): Level {
  const l = s?.toLowerCase();
  return l === "debug" || l === "info" || l === "warn" || l === "error" ? l : fallback;
}

export function createLogger(o: LoggerOptions = {}): JsonLogger {
  const state = {
    level: o.level ?? "info",
    name: o.name,
  };
  const write = o.write ?? ((line: string) => process.stderr.write(line));
  const nowMs = o.nowMs ?? Date.now;
  const make = (base: Fields): JsonLogger => {
    const log = (level: Level, msg: string, fields?: Fields) => {
      if (SEVERITY[level] < SEVERITY[state.level]) return;
      const time = new Date(nowMs()).toISOString();
      const line: Fields = { time, level, msg };
      if (state.name) line.logger = state.name;
      Object.assign(line, base, fields);
      // The three keys above stay what they are, whatever a field is called.
      line.time = time;
      line.level = level;
      line.msg = msg;
      write(`${stringify(line)}\n`);
    };
    const variadic =
      (level: Level) =>
      (...args: unknown[]) => {
        const words: string[] = [];
        const fields: Fields = {};
        for (const a of args) {
          if (typeof a === "string") words.push(a);
          else if (a instanceof Error) {
            fields.err = errorFields(a);
            if (words.length === 0) words.push(a.message);
          } else if (isPlainObject(a)) Object.assign(fields, a);
          else words.push(String(a));
        }
        log(level, words.join(" "), fields);
      };
    return {
      log,
      child: (fields) => make({ ...base, ...fields }),
      debug: variadic("debug"),
      info: variadic("info"),
      warn: variadic("warn"),
      error: variadic("error"),
      setLevel(level: string) {
        state.level = parseLevel(level, state.level);
      },
      getLevel: () => state.level,
      setName(name: string) {
        state.name = name;
      },
    };
  };
  return make(o.fields ?? {});
}
