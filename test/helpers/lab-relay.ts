import type { LabRelay } from "../lab/lab.js";

/** A lab relay as a `relays:` entry of mailq.yaml, logged in as root; `over` replaces any field. */
export function labRelayEntry(r: LabRelay, over: Record<string, unknown> = {}) {
  return {
    name: r.name,
    host: r.host,
    port: r.port,
    username: r.username,
    privateKeyPath: r.privateKeyPath,
    hostKeyFingerprint: r.hostKeyFingerprint,
    ...over,
  };
}

/** As deployed (deploy/RUNBOOK.md): the gate user, whose key runs only what mailq-bot-gate allows, with sudo. */
export const asGate = (r: LabRelay) => ({ username: r.gateUsername, sudo: true });
