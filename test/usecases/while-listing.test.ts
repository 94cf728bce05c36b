import { describe, expect, it } from "vitest";
import { whileListing } from "../../src/usecases/while-listing.js";

describe("a partial status card's in-place updates", () => {
  it("redraws every interval while the listing runs, and never after it is done", async () => {
    let finish: () => void = () => {};
    const listing = new Promise<void>((r) => {
      finish = r;
    });
    const ticks: number[] = [];
    let done = false;
    const started = Date.now();
    const loop = whileListing(listing, 20, async () => {
      expect(done).toBe(false);
      ticks.push(Date.now() - started);
      if (ticks.length === 3) {
        done = true;
        finish();
      }
    });
    await loop;
    expect(ticks).toHaveLength(3);
    // At most one redraw per interval.
    for (const [i, t] of ticks.entries()) expect(t).toBeGreaterThanOrEqual(20 * (i + 1) - 2);
  });

  it("a listing done before the first interval is never redrawn; a failed one ends the loop too", async () => {
    let ticks = 0;
    await whileListing(Promise.resolve(), 20, async () => {
      ticks++;
    });
    await whileListing(Promise.reject(new Error("channel closed")), 20, async () => {
      ticks++;
    });
    expect(ticks).toBe(0);
  });
});
