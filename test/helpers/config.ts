import { type Config, parseConfig } from "../../src/config.js";

/**
 * Relays on closed loopback ports: a test that wrongly reaches a relay sees an error, and
 * nothing leaves the machine. `settings` are the file's other sections (access, probes, …).
 */
export function closedRelaysConfig(names: string[], settings: Record<string, unknown> = {}): Config {
  return parseConfig({ ...settings, relays: closedRelayEntries(names) }, "test", "/tmp");
}

/** The relays of closedRelaysConfig as the YAML file has them (for a CLI run with its own file). */
export function closedRelayEntries(names: string[]) {
  return names.map((name, i) => ({
    name,
    host: "127.0.0.1",
    port: i + 1,
    username: "root",
    privateKeyPath: "/nonexistent",
    hostKeyFingerprint: `SHA256:${String.fromCharCode(65 + i).repeat(43)}`,
  }));
}
