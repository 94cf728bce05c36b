import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";

const relay = (resolver: unknown) => ({
  relays: [
    {
      name: "relay-a",
      host: "127.0.0.1",
      username: "root",
      privateKeyPath: "/nonexistent",
      hostKeyFingerprint: `SHA256:${"A".repeat(43)}`,
      resolver,
    },
  ],
});

describe("a relay's resolver for triage's dig", () => {
  it.each([["127.0.0.1"], ["::1"], ["2001:db8::53"]])("accepts %s", (r) => {
    const c = parseConfig(relay(r), "test", "/tmp");
    expect(c.relays[0]).toMatchObject({ resolver: r });
  });

  it.each([["999.1.1.1"], ["dns.example"], ["-p53"], ["127.0.0.1;id"], ["@127.0.0.1"], [53]])(
    "refuses %j at load time",
    (r) => {
      expect(() => parseConfig(relay(r), "test", "/tmp")).toThrow(/resolver/);
    },
  );

  it("is optional: dig then asks the relay's own resolver", () => {
    expect(
      (parseConfig(relay(undefined), "test", "/tmp").relays[0] as { resolver?: string }).resolver,
    ).toBeUndefined();
  });
});
