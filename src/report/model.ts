import type { RowWarning } from '../driver/warnings.js';
import type { HealthCheckSettings } from '../balancer/settings.js';
import type { Finding } from '../driver/records.js';
import type { ScenarioMetrics } from '../metrics/aggregate.js';
import type { StrategyVariantRecord } from '../strategies/registry.js';

/** Bumped whenever a field changes meaning or goes away; new fields may appear within a version. */
export const SCHEMA_VERSION = 1;

export interface Report {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: 'hactl'; version: string };
  runId: string;
  startedAt: string;
  durationMs: number;
  settings: ReportSettings;
  results: ResultRow[];
  /** The config file's expectations, judged against the rows (absent without a config). */
  expectations?: ExpectationResult[];
}

export interface ReportSettings {
  strategies: string[];
  /**
   * What each of those labels stands for: its strategy and variant (`redis:aof-always` is redis,
   * aof-always; `redis` is redis, none), so that readers need not parse labels. Absent in JSON
   * reports written before it; reading one back (readAsToday) fills it in.
   */
  strategyVariants: StrategyVariantRecord[];
  scenarios: string[];
  replicas: number;
  users: number;
  reads: number;
  /** Requests in flight at once; latency percentiles are only comparable at equal concurrency. */
  concurrency: number;
  seed: number;
  runtime: string;
  /** The app under test: its profile, and how its replicas were started (absent: the demo app). */
  app?: { profile: string; profileSource: string; command?: string; image?: string; target?: string };
  /** For the docker runtime: its network, where the balancer ran, and the image overrides. */
  docker?: { network: string; balancer: string; images: Record<string, string> };
  requestTimeoutMs: number;
  /** Whether throwaway users warmed the replicas up before each scenario (absent in reports older than the flag: on). */
  warmUp?: boolean;
  /** --rate: at most this many requests a second went from hactl to the app (absent: no limit). */
  rate?: number;
  /** --id-sample: the id-quality check's logins, when set. */
  idSample?: number;
  /** Replicated store variants' settings (--store-replicas, --failover-profile, --replication-delay), when the run had one. */
  store?: { replicas?: number; failoverProfile: string; replicationDelayMs: number };
  /** The app profile's test accounts file (`users:`), when it has one. */
  accounts?: string;
  /** --strict: a skipped row fails the run (and is a failure in JUnit). */
  strict?: boolean;
  /** --fail-on-findings: a failed security finding fails the run (exit 1), as a failed expectation does. */
  failOnFindings?: boolean;
  /** The config file the run read, if any. */
  config?: string;
  balancer: ClusterBalancerSettings | ExternalBalancerSettings;
}

/** The balancer of a cluster hactl started: its own settings, which hactl chose and knows. */
export interface ClusterBalancerSettings {
  /** hactl's own balancer, or HAProxy standing in for it. */
  kind: 'hactl' | 'haproxy';
  /** `fast` (test speed) or `alb` (AWS ALB's defaults). */
  profile: string;
  algorithm: string;
  healthCheck: HealthCheckSettings;
  /** The settings of the `sticky` strategy's lb_cookie stickiness. */
  stickiness: { cookieName: string; durationSeconds: number };
  upstreamTimeoutMs: number;
  connectTimeoutMs: number;
  deregistrationDelayMs: number;
  /** What the balancer added to a request, measured at the start of the run. */
  overheadMs?: { p50: number; p99: number; samples: number; p50ByRound?: number[]; probeMs?: number };
}

/**
 * A deployment's own balancer (--runtime external): only what hactl knows of it, the address it
 * sent its users to and the path it probed. Its health checks, stickiness and timings are the
 * deployment's, which hactl cannot see, so the report states none.
 */
export interface ExternalBalancerSettings {
  kind: 'external';
  /** --target: the deployment's origin. */
  target: string;
  /** The path hactl probed through the target: the app profile's health path. */
  probePath: string;
}

export function isExternalBalancer(balancer: ReportSettings['balancer']): balancer is ExternalBalancerSettings {
  return balancer.kind === 'external';
}

/** `interrupted`: the run was stopped (Ctrl-C, SIGTERM) before this row finished, or before it began. */
export type RowStatus = 'ok' | 'skipped' | 'error' | 'interrupted';

export interface ResultRow {
  strategy: string;
  scenario: string;
  status: RowStatus;
  /** Why the row was skipped or failed. */
  reason?: string;
  /** What to do about it, when hactl knows. */
  fix?: string;
  /** The store server this row ran against. */
  store?: string;
  durationMs?: number;
  /** Where the row's wall time went (absent on rows that never started a cluster). */
  timings?: RowTimings;
  metrics?: ScenarioMetrics;
  findings?: Finding[];
  /**
   * What makes the row's figures doubtful, with the evidence: said beside the row in every
   * format. A warning with `invalid` means the figures are not a measurement of the strategy
   * at all (the balancer failed open from the start, say): such a row fails its expectations
   * and makes the run exit 3, like an error row.
   */
  warnings?: RowWarning[];
}

export type { RowWarning, RowWarningId } from '../driver/warnings.js';
export { ROW_WARNING_IDS } from '../driver/warnings.js';

export type ExpectationStatus = 'passed' | 'failed' | 'skipped' | 'error' | 'not-run';

/** An expectation judged against one row of a report; the JSON report keeps these. */
export interface ExpectationResult {
  strategy: string;
  scenario: string;
  metric: string;
  expected: string;
  /** The measured figure; null when the row has none (or did not run). */
  actual: number | boolean | null;
  status: ExpectationStatus;
  /** One line: what was measured against what was expected, or why it could not be judged. */
  message: string;
}

/** A row whose figures must not be read as a result: an error, or a warning that invalidates it. */
export function rowIsInvalid(row: Pick<ResultRow, 'warnings'>): boolean {
  return invalidatingWarnings(row).length > 0;
}

/** The warnings that say a row's figures measure nothing of the strategy. */
export function invalidatingWarnings(row: Pick<ResultRow, 'warnings'>): RowWarning[] {
  return (row.warnings ?? []).filter((warning) => warning.invalid === true);
}

/** The status a row is shown with: `invalid` for one that ran but whose warning voids its figures. */
export function shownStatus(row: Pick<ResultRow, 'status' | 'warnings'>): string {
  return row.status === 'ok' && rowIsInvalid(row) ? 'invalid' : row.status;
}

/**
 * Wall time of one row, in milliseconds, split where a user can act on it: a slow start-up is
 * the machine or the store, a slow scenario is load or timeouts, a slow teardown is a replica
 * that will not stop.
 */
export interface RowTimings {
  /** Starting the strategy's store until it answered: only on the first row that ran against it. */
  storeStartMs?: number;
  /** The cluster for this row: store fault proxy (if any), replicas (in parallel) and balancer, until all are ready. */
  startupMs: number;
  /** From the cluster being ready to its teardown: the scenario (warm-up and every phase) and the aggregation of its samples. */
  scenarioMs: number;
  /** Stopping the balancer, the replicas and the fault proxy. */
  teardownMs: number;
  /**
   * --runtime external with a profile logout: the sessions the scenario left (its users', the
   * warm-up's, the security checks' jars), the logouts sent and those that failed, and how long
   * that took (part of scenarioMs).
   */
  logouts?: { sessions: number; sent: number; failed: number; ms: number };
}
