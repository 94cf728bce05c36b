import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { movement } from "../../src/analysis/delta.js";
import { buildSnapshot } from "../../src/analysis/snapshot.js";
import { STATUS_SCHEMA_VERSION, statusDocument } from "../../src/json/status-document.js";
import { statusDocumentSchema, statusJsonSchema } from "../../src/json/status-document-schema.js";
import { runCli } from "../helpers/cli.js";
import { closedRelayEntries } from "../helpers/config.js";
import { snapOf, T0 } from "../watch/helpers.js";

const SHIPPED = join(import.meta.dirname, "../../src/json/status-document.schema.json");

describe("the status --json document", () => {
  it("ships a JSON Schema generated from the zod types, up to date (npm run schema)", () => {
    expect(readFileSync(SHIPPED, "utf8")).toBe(statusJsonSchema());
    const s = JSON.parse(readFileSync(SHIPPED, "utf8"));
    expect(s.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(s.properties.schemaVersion.const).toBe(STATUS_SCHEMA_VERSION);
    expect(s.required).toEqual(["schemaVersion", "relays"]);
  });

  it("is what the code builds: answered, down and partial relays, with progress", () => {
    const before = snapOf("relay-a", T0, { deferred: 500, hold: 3 });
    const now = snapOf("relay-a", T0 + 15 * 60_000, { deferred: 300, hold: 3 });
    const down = snapOf("relay-b", T0, "down");
    const partial = buildSnapshot({
      relay: "relay-c",
      takenAtMs: T0,
      listingComplete: false,
      probeErrors: [],
    });
    const doc = statusDocument(
      [now, down, partial],
      new Map([["relay-a", movement(now, before, before, T0 + 15 * 60_000)]]),
    );
    const parsed = statusDocumentSchema.parse(JSON.parse(JSON.stringify(doc)));
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed.relays.map((r) => [r.relay, r.ok, r.complete, r.progress === null])).toEqual([
      ["relay-a", true, true, false],
      ["relay-b", false, false, true],
      ["relay-c", true, false, true],
    ]);
  });

  it("refuses a field it does not know, so a new field cannot slip in without the schema", () => {
    const doc = statusDocument([snapOf("relay-a", T0, { deferred: 1 })], new Map());
    const extra = { ...doc, relays: [{ ...doc.relays[0], surprise: 1 }] };
    expect(statusDocumentSchema.safeParse(extra).success).toBe(false);
  });

  it("ships a schema that a script can keep: a newer document with an added field still passes it, a retyped one does not", () => {
    // zod's own JSON Schema reader stands in for the script's validator.
    const shipped = z.fromJSONSchema(JSON.parse(readFileSync(SHIPPED, "utf8")));
    const doc = JSON.parse(
      JSON.stringify(statusDocument([snapOf("relay-a", T0, { deferred: 1 })], new Map())),
    );
    expect(shipped.safeParse(doc).success).toBe(true);
    const relay = doc.relays[0];
    const added = { ...doc, relays: [{ ...relay, addedLater: 1, queues: { ...relay.queues, corrupt: 0 } }] };
    expect(shipped.safeParse(added).success).toBe(true);
    expect(shipped.safeParse({ ...doc, relays: [{ ...relay, messages: "many" }] }).success).toBe(false);
    expect(shipped.safeParse({ ...doc, relays: [{ ...relay, queues: undefined }] }).success).toBe(false);
    expect(shipped.safeParse({ ...doc, schemaVersion: STATUS_SCHEMA_VERSION + 1 }).success).toBe(false);
  });

  it("carries which I/O stall was measured: PSI's share, else vmstat's iowait, each a number or null", () => {
    const withLoad = (load: Record<string, number | null>) => {
      const doc = statusDocument([snapOf("relay-a", T0, { deferred: 1 })], new Map());
      return { ...doc, relays: [{ ...doc.relays[0], load: { load1: 1, load5: 1, load15: 1, ...load } }] };
    };
    const psi = { ioPressurePercent: 12.27, ioPressureFullPercent: 0, iowaitPercent: null };
    const vmstat = { ioPressurePercent: null, ioPressureFullPercent: null, iowaitPercent: 5 };
    expect(statusDocumentSchema.safeParse(withLoad(psi)).success).toBe(true);
    expect(statusDocumentSchema.safeParse(withLoad(vmstat)).success).toBe(true);
    expect(statusDocumentSchema.safeParse(withLoad({ ...psi, ioPressurePercent: 101 })).success).toBe(false);
    expect(statusDocumentSchema.safeParse(withLoad({ iowaitPercent: 5 })).success).toBe(false);
    const load = JSON.parse(readFileSync(SHIPPED, "utf8")).properties.relays.items.properties.load.anyOf[0];
    expect(load.properties.ioPressurePercent.description).toMatch(
      /PSI.*null when the relay's kernel has no PSI/,
    );
    expect(load.properties.iowaitPercent.description).toMatch(/measured only when PSI did not answer/);
  });

  it("is what status --json prints (relays that do not answer)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mailq-json-"));
    const r = await runCli(["status", "--json"], {
      relays: closedRelayEntries(["relay-a", "relay-b"]),
      probes: { timeout: "2s" },
      store: { path: join(dir, "db.sqlite") },
    });
    expect(r.err).toBe("");
    expect(r.code).toBe(1);
    const doc = statusDocumentSchema.parse(JSON.parse(r.out));
    expect(doc.relays.map((x) => x.ok)).toEqual([false, false]);
  });
});
