import { didYouMean } from '../platform/did-you-mean.js';
import { FINDING_IDS, isFact, isFindingId } from '../driver/findings.js';
import type { Finding } from '../driver/records.js';
import type { ResultRow } from '../report/model.js';

/**
 * The figures an expectation may name, each read from a row of the report. Names follow the JSON
 * report (`hitRate`, `sessionLoss`), with dotted forms for nested figures (`read.p99` is the p99
 * of the row's read latency, `lostUpdates.rate`) and `finding.<id>` for security findings.
 */
type Reader = (row: ResultRow) => number | boolean | null;

const metric =
  (pick: (m: NonNullable<ResultRow['metrics']>) => number | null | undefined): Reader =>
  (row) =>
    row.metrics ? (pick(row.metrics) ?? null) : null;

const FIXED: Record<string, Reader> = {
  hitRate: metric((m) => m.hitRate),
  missRate: metric((m) => m.missRate),
  errors: metric((m) => m.errors),
  failedLogins: metric((m) => m.failedLogins),
  requests: metric((m) => m.requests),
  reads: metric((m) => m.reads),
  sessionLoss: metric((m) => m.sessionLoss),
  usersLost: metric((m) => m.usersLost),
  recoveryMs: metric((m) => m.recoveryMs),
  detectionMs: metric((m) => m.detectionMs),
  imbalance: metric((m) => m.imbalance),
  lostUpdates: metric((m) => m.lostUpdates?.lost),
  'lostUpdates.rate': metric((m) => m.lostUpdates?.rate),
  'expiry.stale': metric((m) => m.expiry?.stale),
  'storeFault.errorRate': metric((m) => m.storeFault?.errorRate),
  'storeFault.hung': metric((m) => m.storeFault?.hung),
  'storeFault.failOpen': metric((m) => m.storeFault?.failOpen),
  // Store failover: what a design review asks of a replicated store ("storeFailover.lost: 0").
  'storeFailover.lost': metric((m) => m.storeFailover?.lost),
  'storeFailover.sessionsLost': metric((m) => m.storeFailover?.sessionsLost),
  'storeFailover.unavailableMs': metric((m) => m.storeFailover?.unavailableMs),
  'storeFailover.indeterminate': metric((m) => m.storeFailover?.indeterminate),
  'storeFailover.primariesAtOnce': metric((m) => m.storeFailover?.failover?.mostPrimariesAtOnce),
  // Read-your-writes through a replica, over both parts of replica-reads ("replicaReads.violations: 0").
  'replicaReads.violations': metric((m) => m.replicaReads?.violations),
  'replicaReads.missing': metric((m) => m.replicaReads?.missing),
  'replicaReads.stale': metric((m) => m.replicaReads?.stale),
};

const LATENCY = /^(login|read)\.(p50|p95|p99|max)$/;
const FINDING = /^finding\.([a-z0-9][a-z0-9-]*)$/;

export const METRIC_NAMES = [...Object.keys(FIXED), '<login|read>.<p50|p95|p99|max>', 'finding.<id>'];

/** Every figure by its full name, to find the one a mistyped name meant. */
const EVERY_METRIC = [
  ...Object.keys(FIXED),
  ...['login', 'read'].flatMap((kind) => ['p50', 'p95', 'p99', 'max'].map((percentile) => `${kind}.${percentile}`)),
  ...FINDING_IDS.map((id) => `finding.${id}`),
];

/** The reader for a metric name, or undefined when no such figure exists. */
export function metricReader(name: string): Reader | undefined {
  if (FIXED[name]) return FIXED[name];
  const latency = LATENCY.exec(name);
  if (latency) {
    const [, kind, percentile] = latency as unknown as [string, 'login' | 'read', 'p50' | 'p95' | 'p99' | 'max'];
    return metric((m) => m.latencyByKind[kind]?.[percentile]);
  }
  // A finding that could not be checked (passed: null) reads as no value here; findingOf tells it from an absent one.
  if (FINDING.test(name)) return isFindingId(name.slice('finding.'.length)) ? (row) => findingOf(row, name)?.passed ?? null : undefined;
  return undefined;
}

/** The finding a `finding.<id>` figure names, as the row recorded it, or undefined when the row has none. */
export function findingOf(row: Pick<ResultRow, 'findings'>, name: string): Finding | undefined {
  const id = FINDING.exec(name)?.[1];
  return id === undefined ? undefined : row.findings?.find((candidate) => candidate.id === id);
}

/** Whether a metric is a pass/fail finding (compared with `pass`/`fail`) rather than a number. */
export function isFinding(name: string): boolean {
  return FINDING.test(name);
}

/**
 * Why an expectation cannot name this figure, or undefined when it can: an unknown figure or
 * finding id (with the near ones), or a finding that is a fact and never passes or fails.
 */
export function metricProblem(name: string): string | undefined {
  if (name.startsWith('finding.')) {
    const id = name.slice('finding.'.length);
    if (!isFindingId(id)) return `unknown finding "${id}"${didYouMean(id, FINDING_IDS)}; expected finding.<id> with <id> one of ${FINDING_IDS.join(', ')}`;
    if (isFact(id)) return `${id} is a fact on every strategy (a session id is a bearer token), recorded without pass or fail, so an expectation on it would judge nothing`;
    return undefined;
  }
  return metricReader(name) ? undefined : `unknown figure "${name}"${didYouMean(name, EVERY_METRIC)}; expected one of ${METRIC_NAMES.join(', ')}`;
}
