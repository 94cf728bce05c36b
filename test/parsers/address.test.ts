import { describe, expect, it } from "vitest";
import { isDomainName, isPlainAddress } from "../../src/parsers/address.js";

describe("envelope address and domain guards", () => {
  it.each(["a@b.example", "first.last+tag@mail.example.org", "x_y-z@d1.example"])(
    "%s is a plain address",
    (a) => expect(isPlainAddress(a)).toBe(true),
  );

  it.each([
    "a$(id)@b.example",
    "a`x`@b.example",
    "a|b@c.example",
    "-f@b.example@",
    "a b@c.example",
    "@b.example",
    "",
  ])("%j is refused as an address", (a) => expect(isPlainAddress(a)).toBe(false));

  it("takes domain names, not options or shell words", () => {
    expect(isDomainName("mail.example.org")).toBe(true);
    for (const d of ["-x.example", "a;b.example", "a..b", "example.org.", ""])
      expect(isDomainName(d)).toBe(false);
  });
});
