import { describe, expect, it } from "vitest";
import { createLineSplitter } from "../../src/parsers/lines.js";

function split(chunks: (string | Buffer)[], max?: number): string[] {
  const out: string[] = [];
  const s = createLineSplitter((l) => out.push(l), max);
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

describe("createLineSplitter", () => {
  it("joins lines cut across chunks and strips CR", () => {
    expect(split(["ab", "c\r\nde", "f\n", "g"])).toEqual(["abc", "def", "g"]);
  });
  it("does not split a multi-byte character cut between chunks", () => {
    const bytes = Buffer.from("é\nü\n");
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4)])).toEqual(["é", "ü"]);
  });
  it("bounds a line that never ends", () => {
    const out = split(["x".repeat(5000), "y".repeat(5000)], 1000);
    expect(out).toHaveLength(1);
    expect(out[0]?.length).toBe(1000);
  });
});
