import type { Movement } from "../analysis/delta.js";
import type { RelaySnapshot } from "../analysis/snapshot.js";

/**
 * `mailq-bot status --json`: the document, and its version. The contract scripts rely on is the
 * zod schema in status-document-schema.ts, kept apart so that a status never builds it: only tests
 * and `npm run schema` need it. Bump the version on any change a script could notice (a field
 * removed, renamed or retyped).
 */
export const STATUS_SCHEMA_VERSION = 1;

/** The document status --json prints. */
export function statusDocument(
  snapshots: RelaySnapshot[],
  progress: ReadonlyMap<string, Movement>,
): {
  schemaVersion: typeof STATUS_SCHEMA_VERSION;
  relays: (RelaySnapshot & { progress: Movement | null })[];
} {
  return {
    schemaVersion: STATUS_SCHEMA_VERSION,
    relays: snapshots.map((s) => ({ ...s, progress: progress.get(s.relay) ?? null })),
  };
}
