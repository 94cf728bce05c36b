import { describe, expect, it } from "vitest";
import { isDnsName, isHostName, isIp, parseNextHop } from "../../src/parsers/hosts.js";

describe("host and address guards", () => {
  it.each([
    ["127.0.0.1[127.0.0.1]:2525", { host: "127.0.0.1", port: 2525 }],
    ["mx.b.tld[2001:db8::1]:25", { host: "2001:db8::1", port: 25 }],
    ["mx.b.tld[192.0.2.9]", { host: "192.0.2.9", port: null }],
    ["mx.b.tld[unknown]:25", null],
    ["none", null],
    ["x[1.2.3.4]:0", null],
    ["x[-1]:25", null],
  ])("parseNextHop(%s)", (s, want) => {
    expect(parseNextHop(s)).toEqual(want);
  });

  it.each([["-fetc/shadow"], ["a.tld;reboot"], ["$(id)"], ["a b"], ["--help"], ["a.tld\n"], [""]])(
    "refuses %j as a host, an address and a DNS name",
    (s) => {
      expect(isHostName(s)).toBe(false);
      expect(isIp(s)).toBe(false);
      expect(isDnsName(s)).toBe(false);
    },
  );

  it("tells host names from addresses; reverse names are DNS names but not host names", () => {
    expect(isHostName("mx.example.org")).toBe(true);
    expect(isHostName("192.0.2.1")).toBe(false);
    expect(isIp("192.0.2.1")).toBe(true);
    expect(isIp("2001:db8::1")).toBe(true);
    expect(isIp("2001:::1")).toBe(false);
    expect(isDnsName("1.2.0.192.zen.example")).toBe(true);
    expect(isHostName("1.2.0.192")).toBe(false);
  });
});
