import type { TriageFacts } from "../facts.js";
import { LEVERS } from "../levers.js";
import type { Finding } from "../types.js";
import { DAY_MS, takenAtMs } from "./shared.js";

/** The relay's own TLS certificate expired, or expires within certWarnDays. */
export function certificate(f: TriageFacts): Finding[] {
  const w = f.input.world;
  const cert = w?.cert;
  const nowMs = takenAtMs(f);
  if (!w || cert?.notAfterMs == null || cert.notAfterMs - nowMs >= w.certWarnDays * DAY_MS) return [];
  const days = Math.floor(Math.abs(cert.notAfterMs - nowMs) / DAY_MS);
  const expired = cert.notAfterMs <= nowMs;
  return [
    {
      class: "tls",
      share: 0,
      scope: "relay",
      title: expired
        ? `The relay's TLS certificate expired ${days === 0 ? "today" : `${days} day(s) ago`}`
        : `The relay's TLS certificate expires in ${days} day(s)`,
      evidence: [cert.output],
      recommendation: LEVERS.tls,
      destinations: [],
    },
  ];
}
