/** What a scenario leaves behind: samples, faults and findings. The report is computed from these. */
import type { FindingId } from './findings.js';

/** `hit`/`miss` for reads; `ok`/`rejected` for other requests; `error` is no answer or a 5xx. */
export type Outcome = 'hit' | 'miss' | 'ok' | 'rejected' | 'error';

export interface Sample {
  scenario: string;
  phase: string;
  /** The phase's kind (`login`, `read`, ...), which the report groups latencies by. */
  kind: string;
  user: number;
  /** The replica that answered: hactl's balancer's x-hactl-replica tag, or the app profile's replica: source; null when the answer named none. */
  replica: string | null;
  /** HTTP status; 0 when no answer came. */
  status: number;
  latencyMs: number;
  outcome: Outcome;
  /** Milliseconds since the scenario started: when the request was sent, and when it completed. */
  at: number;
  end: number;
  /** Why no answer came (ECONNREFUSED, timeout, ...). */
  error?: string;
}

/**
 * One user's login in a login phase, and whether it gave the user a session. A failed login is
 * the app refusing or the profile being wrong (a CSRF token it did not send, a cookie name the
 * app does not use), not the strategy losing a session: the report counts it apart.
 */
export interface LoginRecord {
  user: number;
  /** Milliseconds since the scenario started: when the answer came (or the request gave up). */
  end: number;
  /** HTTP status; 0 when no answer came. */
  status: number;
  /** Why the user has no session after it (`answered 403`, ...); absent when the login worked. */
  failure?: string;
  /** The start of a failed login's answer body: what the app said. */
  body?: string;
}

export interface Fault {
  kind: string;
  target: string;
  /** Milliseconds since the scenario started. */
  at: number;
  /** When the balancer took the target out of rotation, if it did. */
  detectedAt?: number;
  /** When the fault took effect, where that is later than when it was asked for (a proxy's toxic). */
  appliedAt?: number;
  /** When the fault was undone (the store restarted, the toxic removed, the replica back in rotation). */
  endAt?: number;
  /**
   * After a store fault of the user's command: the end of the last request that failed (an error,
   * or a miss of a user whose reads hit before) before the store was seen back. An app that fails
   * closed answers 401s, not errors, while its store is down, so recovery is never shorter than this.
   */
  backAt?: number;
  /** What the fault did that the report shows: drain time, requests abandoned, toxic settings. */
  detail?: Record<string, number | string>;
  /** The user's commands run for this fault (--runtime external), in order. */
  commands?: FaultCommandRun[];
  /** How `at` (the moment the fault took effect) was found where hactl did not do the fault itself. */
  effect?: 'first-failure' | 'replica-gone' | 'command-start';
  /** false: hactl did not see the fault take effect, so the figures after it are no result. Absent where hactl did the fault itself. */
  observed?: boolean;
  /** What was seen: how the fault was verified, or why it was not. One sentence. */
  observation?: string;
}

/** One run of a user's fault command. */
export interface FaultCommandRun {
  /** '--kill-replica-cmd', '--start-replica-cmd', '--kill-store-cmd', '--start-store-cmd', '--verify-cmd', '--store-ready-cmd' */
  flag: string;
  /** The command line as run (fields filled in). */
  command: string;
  /** Milliseconds since the scenario started. */
  startAt: number;
  endAt: number;
  /** 'exit 0', 'exit 4', 'SIGKILL', 'timeout'. */
  exit: string;
  /** The last <= 500 characters of stdout+stderr, trimmed. */
  output: string;
}

/** One user's counter after concurrent increments: what the app acknowledged, and what it kept. */
export interface CounterRecord {
  user: number;
  acknowledged: number;
  /** The highest value any replica reported afterwards; null when no read answered. */
  final: number | null;
}

/**
 * A security observation with its evidence. `passed` is null for a fact expected on every
 * strategy (`fact: true`, such as a stolen cookie working), or for a check that could not be
 * made or proved nothing (the summary says why).
 */
export interface Finding {
  id: string;
  title: string;
  passed: boolean | null;
  fact?: true;
  summary: string;
  evidence: Record<string, number | string>;
}

/** A finding as a phase records it: its id is one of FINDINGS, which config files may name. */
export type RecordedFinding = Finding & { id: FindingId };
