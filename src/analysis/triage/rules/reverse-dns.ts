import type { TriageFacts } from "../facts.js";
import type { Finding } from "../types.js";

/** An outbound address whose reverse DNS is missing, not forward-confirmed, or not the HELO name. */
export function reverseDns(f: TriageFacts): Finding[] {
  const w = f.input.world;
  return (w?.rdns ?? [])
    .filter((r) => r.status !== "match" && r.status !== "unknown")
    .map((r) => ({
      class: "dns",
      share: 0,
      scope: "relay",
      title:
        r.status === "missing"
          ? `${r.ip} has no reverse DNS (PTR)`
          : r.status === "unconfirmed"
            ? `Reverse DNS of ${r.ip} is not forward-confirmed (${r.ptr[0] ?? "?"} does not resolve back to it)`
            : `Reverse DNS of ${r.ip} (${r.ptr.join(", ")}) does not match the HELO name ${r.helo || "(unknown)"}`,
      evidence: [`outbound address from ${w?.outbound.source ?? "?"}`, ...r.evidence],
      recommendation: `Large providers defer or refuse mail from addresses without matching, forward-confirmed reverse DNS. Ask whoever holds ${r.ip}'s reverse zone (the ISP or cloud provider) to set its PTR to ${r.helo || "the HELO name"}, and make that name resolve to ${r.ip}; or set smtp_helo_name to a name that does both. Do not flush meanwhile: every retry meets the same check.`,
      destinations: [],
    }));
}
