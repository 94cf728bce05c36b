import { describe, expect, it } from "vitest";
import { readExecutionResult } from "../../src/store/execution-result.js";
import { toApproval } from "../../src/store/rows.js";

const result = {
  outcomes: [{ queueId: "3F1A61A0A1", outcome: "placed on hold" }],
  skipped: [],
  archived: [{ queueId: "3F1A61A0A1", path: "/a/x.postcat", bytes: 10, envelope: { sender: "" } }],
  summary: ["deferred: Placed on hold: 1 message"],
  output: [],
  progress: { runs: 1, of: 1, ids: 1, total: 1 },
  startedAtMs: 1,
  verification: "1 of 1 now on hold",
  restored: [{ queueId: "3F1A61A0A1", newQueueId: null }],
};

const row = (result_json: unknown) => ({
  id: "req-1",
  relay: "relay-a",
  action: "hold",
  selector: "ALL",
  ticket: "INC-1",
  reason: "",
  requester: "U1",
  channel_id: "C1",
  message_ts: null,
  created_at_ms: 1,
  expires_at_ms: 2,
  status: "done",
  frozen_json: "[]",
  command: "postsuper -h - deferred",
  batch_json: null,
  approvers_json: "[]",
  result_json,
  version: 1,
});

describe("an execution result read back from the store", () => {
  it("comes back as it was written", () => {
    expect(readExecutionResult(JSON.stringify(result), "req-1")).toEqual(result);
    expect(toApproval(row(JSON.stringify(result))).result).toEqual(result);
  });

  it("is null until the request ran", () => {
    expect(toApproval(row(null)).result).toBeNull();
  });

  it.each([
    ["not JSON", "{", /approval req-1: its stored result is not JSON/],
    ["another shape", JSON.stringify({ code: 0 }), /approval req-1: .*not an execution result \(outcomes: /],
    [
      "a wrong field type",
      JSON.stringify({ ...result, progress: { runs: "1", of: 1, ids: 1, total: 1 } }),
      /\(progress\.runs: /,
    ],
  ])("is refused, naming the request, when it is %s", (_what, json, error) => {
    expect(() => readExecutionResult(json, "req-1")).toThrow(error);
    expect(() => toApproval(row(json))).toThrow(error);
  });
});
