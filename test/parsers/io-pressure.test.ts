import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseIoPressure } from "../../src/parsers/system.js";

// `cat /proc/pressure/io` on the lab's kernel (the lab relays run on this machine, so it is the
// file their SSH sessions read), captured while other work kept the disk busy.
const captured = readFileSync(join(import.meta.dirname, "../fixtures/relay-a/pressure-io.txt"), "utf8");

describe("parseIoPressure (/proc/pressure/io)", () => {
  it("reads some and full avg10 from the lab kernel's file", () => {
    expect(parseIoPressure(captured)).toEqual({ ok: true, value: { someAvg10: 12.27, fullAvg10: 0 } });
  });

  it("reads a some line alone (no full line) with full unknown", () => {
    expect(parseIoPressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")).toEqual({
      ok: true,
      value: { someAvg10: 0, fullAvg10: null },
    });
  });

  it("reads 100.00, the most a share can be", () => {
    const r = parseIoPressure("some avg10=100.00 avg60=99.99 avg300=80.10 total=9\n");
    expect(r).toEqual({ ok: true, value: { someAvg10: 100, fullAvg10: null } });
  });

  it.each([
    ["an empty file", "", /no "some" line/],
    ["a full line alone", "full avg10=1.00 avg60=0.00 avg300=0.00 total=5\n", /no "some" line/],
    ["garbage", "cat: /proc/pressure/io: No such file or directory\n", /unexpected line/],
    ["vmstat's output", "procs -----------memory---------- ---swap--\n r  b\n", /unexpected line/],
    ["a missing avg10", "some avg60=0.00 avg300=0.00 total=5\n", /unexpected line/],
    ["a share over 100", "some avg10=100.01 avg60=0.00 avg300=0.00 total=5\n", /not a percentage/],
    ["a negative share", "some avg10=-1.00 avg60=0.00 avg300=0.00 total=5\n", /not a percentage/],
    ["a share that is not a number", "some avg10=NaN avg60=0.00 avg300=0.00 total=5\n", /not a percentage/],
    ["an exponent", "some avg10=1e2 avg60=0.00 avg300=0.00 total=5\n", /not a percentage/],
    ["an out-of-range avg300", "some avg10=1.00 avg60=0.00 avg300=250.00 total=5\n", /not a percentage/],
    ["a negative total", "some avg10=1.00 avg60=0.00 avg300=0.00 total=-5\n", /unexpected line/],
    ["two some lines", `${captured}some avg10=1.00 avg60=0.00 avg300=0.00 total=5\n`, /two "some" lines/],
    ["another resource's line", "cpu avg10=1.00 avg60=0.00 avg300=0.00 total=5\n", /unexpected line/],
  ])("refuses %s, saying why", (_label, text, why) => {
    const r = parseIoPressure(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });
});
