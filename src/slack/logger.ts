import { type Logger, LogLevel } from "@slack/bolt";
import type { JsonLogger, Level } from "../log/logger.js";

const BOLT_LEVEL: Record<Level, LogLevel> = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
};

/** Bolt's Logger on the JSON logs, so the framework's own messages come out in the same shape. */
export function boltLogger(j: JsonLogger): Logger {
  return {
    debug: (...m) => j.debug(...m),
    info: (...m) => j.info(...m),
    warn: (...m) => j.warn(...m),
    error: (...m) => j.error(...m),
    setLevel: (level) => j.setLevel(level),
    getLevel: () => BOLT_LEVEL[j.getLevel()],
    setName: (name) => j.setName(name),
  };
}
