import { worldFindings } from "../../world-findings.js";
import type { TriageFacts } from "../facts.js";
import type { Finding } from "../types.js";

/** Checklist B: blocklists, reverse DNS, the certificate, bounces and policy refusals. */
export const world = (f: TriageFacts): Finding[] =>
  worldFindings(f.input, Date.parse(f.snapshot.takenAt), f.recipients);
