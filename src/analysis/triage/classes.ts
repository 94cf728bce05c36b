import type { ReasonClass } from "../reasons.js";
import { FINDING_CLASSES, type FindingClass } from "./types.js";

const isFindingClass = (c: string): c is FindingClass => (FINDING_CLASSES as readonly string[]).includes(c);

/** Reason classes onto finding classes: a TLS handshake that fails is a network path problem. */
export function findingClassOf(c: ReasonClass): FindingClass | null {
  if (c === "tls") return "network";
  return isFindingClass(c) ? c : null;
}
