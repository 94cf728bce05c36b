/** Stable codes: callers and tests match on these, never on message text. */
export type ErrorCode =
  | "CONFIG_INVALID"
  | "CONFIG_NOT_FOUND"
  | "RELAY_UNKNOWN"
  | "RELAY_UNREACHABLE"
  | "RELAY_HOST_KEY_MISMATCH"
  | "RELAY_AUTH_FAILED"
  | "RELAY_TIMEOUT"
  | "PROBE_FAILED"
  | "PROBE_TIMEOUT"
  | "INPUT_INVALID"
  | "SLACK_API"
  | "STORE_SCHEMA_TOO_NEW";

export class MailqError extends Error {
  readonly code: ErrorCode;
  /** What the person should do next; shown after the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MailqError";
    this.code = code;
    this.hint = options.hint;
  }

  /** One line a person can act on: what happened, then what to do. */
  describe(): string {
    return this.hint ? `${this.message}. ${this.hint}` : this.message;
  }
}

export function isMailqError(e: unknown): e is MailqError {
  return e instanceof MailqError;
}

export function describeError(e: unknown): string {
  if (isMailqError(e)) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}
