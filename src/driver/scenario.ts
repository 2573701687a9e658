import type { AppSettings } from '../topology/plan.js';
import type { ScenarioPhase } from './phase.js';

/** A scenario as the loader (src/config/scenario.ts) makes it and the runner runs it. */
export interface Scenario {
  name: string;
  description: string;
  file: string;
  requires: { replicas: number; users: number };
  /** Demo app settings this scenario runs with (express-session's resave, the idle timeout). */
  app: AppSettings;
  phases: ScenarioPhase[];
  measure: ScenarioMeasures;
}

export interface ScenarioMeasures {
  sessionLoss?: { before: string; after: string };
  /** Reads just before the idle timeout, and just after it: which replicas still serve the session. */
  expiry?: { before: string; after: string };
  /** A request slower than this counts as hung (store-latency, store-outage). */
  hangMs?: number;
}

