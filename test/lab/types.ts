import type { LabData, ScenarioSummary } from "./lab.js";

export type { LabData, LabRelay, ScenarioSummary } from "./lab.js";

// What test/lab/global-setup.ts provides to the integration tests: `inject("lab")`.
declare module "vitest" {
  export interface ProvidedContext {
    /** The running lab (relay-a: standard scenario, relay-b: 5 messages to throttle.lab.test). */
    lab: LabData;
    /** What fillStandardScenario() injected into relay-a. */
    labScenario: ScenarioSummary;
  }
}
