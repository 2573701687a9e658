import type { ScenarioActivity } from '../driver/scenario-runner.js';
import type { ResultRow } from './model.js';

/** What a run tells as it goes, for progress lines (src/run.ts emits these). */
export type RunEvent =
  | { type: 'run-start'; runId: string; seed: number }
  | { type: 'notice'; message: string }
  | { type: 'store-ready'; strategy: string; description: string }
  | { type: 'preflight-step'; strategy: string; step: PreflightStep }
  /** `checking`: on an external deployment nothing is started, only its health path checked (this URL). */
  | { type: 'scenario-start'; strategy: string; scenario: string; checking?: string }
  | { type: 'row'; row: ResultRow };

/** Where a run is, for a live status line: updated after every request. */
export interface RunActivity extends ScenarioActivity {
  strategy: string;
  scenario: string;
}


/** The steps of a pre-flight, in order; a failed step ends it (the later ones cannot be judged). */
export type PreflightStepName = 'start' | 'health' | 'login' | 'read' | 'store';

export interface PreflightStep {
  step: PreflightStepName;
  ok: boolean;
  /** What was seen: the status and the start of the body, the cookie set, the entries in the store. */
  detail: string;
  /** What to do about a failed step. */
  fix?: string;
}

