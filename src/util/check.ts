/** One line of `mailq-bot doctor`: what was checked, how it went, and what to do when it failed. */
export interface Check {
  /** What the line is about: "config", "store", "archive", a relay's name, "slack". */
  area: string;
  /** The check within the area: "tcp", "host key", "scopes", … */
  name: string;
  /** warn: works, but something is worth knowing; skip: not checked because an earlier check failed. */
  status: "ok" | "warn" | "fail" | "skip";
  detail: string;
  fix?: string;
}

export const ok = (area: string, name: string, detail: string): Check => ({
  area,
  name,
  status: "ok",
  detail,
});
export const fail = (area: string, name: string, detail: string, fix: string): Check => ({
  area,
  name,
  status: "fail",
  detail,
  fix,
});
export const warn = (area: string, name: string, detail: string, fix?: string): Check => ({
  area,
  name,
  status: "warn",
  detail,
  ...(fix ? { fix } : {}),
});
export const skip = (area: string, name: string, why: string): Check => ({
  area,
  name,
  status: "skip",
  detail: why,
});
