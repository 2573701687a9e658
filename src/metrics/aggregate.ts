import { detectedAt, isStoreToxicFault, type CounterRecord, type FailoverRecord, type Fault, type LoginRecord, type ReplicaReadsRecord, type Sample } from '../driver/records.js';
import { storeFailoverMetrics, type StoreFailoverMetrics } from './store-failover.js';
import { replicaReadsMetrics, type ReplicaReadsMetrics } from './replica-reads.js';
import type { StoreToxicFault } from '../driver/phases/store-fault.js';
import { PROXY_ERRORS } from '../driver/replica-identity.js';
import { summarizeLatencies, type LatencySummary } from './histogram.js';
import { latencyDistribution, timeline, type LatencyDistribution, type Timeline } from './series.js';

/** The figures of one strategy x scenario row, as DESIGN.md defines them. */
export interface ScenarioMetrics {
  requests: number;
  /** Users' reads of their own session that got an answer. */
  reads: number;
  /** hits / reads that got an HTTP answer (not an error). */
  hitRate: number | null;
  missRate: number | null;
  /** Requests of any phase with no answer or a 5xx. */
  errors: number;
  /** Users' logins in the scenario's login phases. */
  logins: number;
  /**
   * Logins answered with no answer, a 4xx or 5xx, or without the profile's session cookie in the
   * user's jar afterwards: those users never had a session, so their reads are left out of the
   * hit rate and session loss (a miss there would be the login's fault, not the strategy's).
   */
  failedLogins: number;
  /** Users who could read their session before the fault and got no hit in any read after it. */
  sessionLoss: number | null;
  usersWithSession: number | null;
  usersLost: number | null;
  /**
   * From a fault to the completion of the last failed request after it (before the next fault);
   * with several faults, the longest. Null without a fault or when `recovered` is false.
   */
  recoveryMs: number | null;
  /** Whether requests had stopped failing by the end of the scenario; null without a fault. */
  recovered: boolean | null;
  /** From the first fault until the balancer took the faulty target out of rotation. */
  detectionMs: number | null;
  /** Latency per phase, by phase name, over requests that got a non-error answer. */
  latencyMs: Record<string, LatencySummary>;
  /** The same, pooled by phase kind (all `read` phases together, ...): the table's login and read columns. */
  latencyByKind: Record<string, LatencySummary>;
  /** Requests per replica named in the answers; answers that named none (no answer, a proxy's own 502/503/504 under a profile's `replica:` source) are in no replica's count. */
  requestsPerReplica: Record<string, number>;
  /**
   * False when replicas answered and none of their answers named the replica (no x-hactl-replica
   * tag and no profile `replica:` source, or a source that matched nothing): per-replica figures
   * are unknown, not zero.
   */
  replicasKnown: boolean;
  /**
   * Requests on the busiest replica / mean requests per replica (1 is even). Over every replica
   * of the cluster when answers carry hactl's balancer's tag (a replica that got nothing is real
   * imbalance); over the replicas seen in answers when the names are the app's or its proxy's.
   */
  imbalance: number | null;
  /** Concurrent increments: acknowledged with a 2xx, kept in the counter, and the difference. */
  lostUpdates: { acknowledged: number; kept: number; lost: number; rate: number | null; usersAffected: number } | null;
  /** Idle timeout: whether sessions were served everywhere just before it, and anywhere after it. */
  expiry: ExpiryMetrics | null;
  /** Store failover: acknowledged writes lost, sessions lost, unavailability and the failover's steps. Absent from reports written before it existed. */
  storeFailover?: StoreFailoverMetrics | null;
  /** Read-your-writes through a replicated store's reader endpoint (replica-reads), per part. Absent from reports written before it existed. */
  replicaReads?: ReplicaReadsMetrics | null;
  /** Requests sent while a store fault was on: how they fared. */
  storeFault: StoreFaultMetrics | null;
  /** What the scenario did to the cluster, when, and how it went (scenario time, ms). */
  faults: Fault[];
  phases: PhaseMetrics[];
  /** Hits, misses and errors over time, for charts around the faults; null without requests. */
  timeline: Timeline | null;
  /** Latencies of users' answered reads of their own session, bucketed, for charts. */
  readLatencyDistribution: LatencyDistribution | null;
}

export interface ExpiryMetrics {
  users: number;
  replicas: number;
  /** Users whose every read just before the timeout hit, whichever replica answered it. */
  allReadsHit: number;
  /** Replicas that served sessions just before the timeout: all of them, unless stickiness kept some idle. */
  replicasServing: string[];
  /** Users whose session was still served after the timeout: a stale copy somewhere. */
  stale: number;
  /** The replicas that served those stale sessions. */
  staleReplicas: string[];
}

export interface StoreFaultMetrics {
  requests: number;
  /** No answer or a 5xx, over requests sent during the fault. */
  errorRate: number | null;
  /** Requests that took longer than the bound (`measure.hangMs`) or never got an answer in time. */
  hung: number;
  hangMs: number;
  /** Latency of the answered, non-error requests sent during the fault. */
  latencyMs: LatencySummary | null;
  /**
   * Reads answered as logged in while the store could not be reached (a `down`, `timeout` or
   * `reset_peer` toxic): a session served without its store, i.e. the app failed open.
   */
  failOpen: number;
}

export interface PhaseMetrics {
  name: string;
  kind: string;
  requests: number;
  hits: number;
  misses: number;
  errors: number;
  /** Hits, misses and errors per replica that answered. */
  byReplica: Record<string, { hits: number; misses: number; errors: number }>;
}

/** Toxics that cut replicas off from the store; latency alone does not. */
/** Toxics that leave the store unreachable: nothing answered during one can have come from the store. */
const CUTS_OFF_STORE: Record<StoreToxicFault['kind'], boolean> = { 'store-down': true, 'store-timeout': true, 'store-reset_peer': true, 'store-latency': false };

function cutsOffStore(fault: StoreToxicFault): boolean {
  return CUTS_OFF_STORE[fault.kind];
}
const DEFAULT_HANG_MS = 2_000;

export interface AggregateInput {
  samples: readonly Sample[];
  faults: readonly Fault[];
  /** The scenario's phases in order; `ownSessionReads` marks the ones that make the hit rate. */
  phases: readonly { name: string; kind: string; ownSessionReads?: boolean }[];
  sessionLoss?: { before: string; after: string };
  expiry?: { before: string; after: string };
  hangMs?: number;
  counters?: readonly CounterRecord[];
  /** The scenario's store failovers (the first is measured). */
  failovers?: readonly FailoverRecord[];
  /** The scenario's reads through a reader endpoint (replica-reads), one record per part. */
  replicaReads?: readonly ReplicaReadsRecord[];
  /**
   * Every replica of the cluster, including any that answered nothing: only when answers name
   * replicas by these ids (hactl's balancer's tag). Without them, only replicas seen count.
   */
  replicaIds?: readonly string[];
  /** The logins of the scenario's login phases: users whose login failed had no session to read. */
  logins?: readonly LoginRecord[];
}

export function aggregate(input: AggregateInput): ScenarioMetrics {
  const { samples } = input;
  const logins = input.logins ?? [];
  // A user without a session reads nothing of the strategy: neither a hit nor a miss of it.
  const sessionless = withoutSession(logins);
  const sessionReads = samples.filter((sample) => !sessionless(sample));
  const readPhases = new Set(input.phases.filter((phase) => phase.ownSessionReads).map((phase) => phase.name));
  const reads = sessionReads.filter((sample) => readPhases.has(sample.phase));
  const answered = reads.filter((sample) => sample.outcome !== 'error');
  const hits = answered.filter((sample) => sample.outcome === 'hit').length;
  const loss = input.sessionLoss ? sessionLoss(sessionReads, input.sessionLoss) : undefined;
  const firstFault = input.faults.reduce<Fault | undefined>((first, fault) => (!first || fault.at < first.at ? fault : first), undefined);
  const recovery = firstFault ? recoveryAfterFaults(samples, input.faults) : null;
  const measured = samples.filter((sample) => sample.outcome !== 'error');

  return {
    requests: samples.length,
    reads: answered.length,
    hitRate: answered.length === 0 ? null : hits / answered.length,
    missRate: answered.length === 0 ? null : (answered.length - hits) / answered.length,
    errors: samples.filter((sample) => sample.outcome === 'error').length,
    logins: logins.length,
    failedLogins: logins.filter((login) => login.failure !== undefined).length,
    sessionLoss: loss?.rate ?? null,
    usersWithSession: loss?.usersWithSession ?? null,
    usersLost: loss?.usersLost ?? null,
    recoveryMs: recovery,
    recovered: firstFault ? recovery !== null : null,
    detectionMs: firstFault && detectedAt(firstFault) !== undefined ? round(detectedAt(firstFault)! - firstFault.at) : null,
    latencyMs: latencyBy(measured, (sample) => sample.phase),
    latencyByKind: latencyBy(measured, (sample) => sample.kind),
    requestsPerReplica: countBy(samples, (sample) => sample.replica),
    replicasKnown: replicasKnown(samples),
    imbalance: imbalance(samples, input.replicaIds ?? []),
    lostUpdates: input.counters && input.counters.length > 0 ? lostUpdates(input.counters) : null,
    expiry: input.expiry ? expiry(sessionReads, input.expiry, input.replicaIds ?? []) : null,
    storeFailover: input.failovers && input.failovers.length > 0 ? storeFailoverMetrics(input.failovers[0]!, logins) : null,
    replicaReads: input.replicaReads && input.replicaReads.length > 0 ? replicaReadsMetrics(input.replicaReads) : null,
    storeFault: storeFault(samples, input.faults, readPhases, input.hangMs ?? DEFAULT_HANG_MS),
    faults: [...input.faults],
    phases: input.phases.map((phase) => phaseMetrics(phase, samples.filter((sample) => sample.phase === phase.name))),
    timeline: timeline(samples),
    readLatencyDistribution: latencyDistribution(answered.map((sample) => sample.latencyMs)),
  };
}

/**
 * Whether a request was sent by a user whose latest login before it failed. A user logs in again
 * in a later login phase and has a session from then on; one who never logged in is not judged
 * here (a scenario without a login phase).
 */
export function withoutSession(logins: readonly LoginRecord[]): (sample: Sample) => boolean {
  const byUser = new Map<number, LoginRecord[]>();
  for (const login of logins) byUser.set(login.user, [...(byUser.get(login.user) ?? []), login]);
  for (const list of byUser.values()) list.sort((a, b) => a.end - b.end);
  return (sample) => {
    const list = byUser.get(sample.user);
    if (list === undefined) return false;
    let latest: LoginRecord | undefined;
    for (const login of list) {
      if (login.end > sample.at) break;
      latest = login;
    }
    return latest?.failure !== undefined;
  };
}

/**
 * Whether answers name replicas: some answer did, or no replica answered at all (no answer, or
 * only a proxy's own 502/503/504, which no replica gave): then there is nothing to name, and
 * per-replica figures are empty rather than unknown.
 */
export function replicasKnown(samples: readonly Sample[]): boolean {
  return samples.some((sample) => sample.replica !== null) || samples.every((sample) => sample.status === 0 || PROXY_ERRORS.has(sample.status));
}

/** DESIGN.md: requests on the busiest replica / mean requests per replica. */
export function imbalance(samples: readonly Sample[], replicaIds: readonly string[]): number | null {
  // `none` is the balancer's tag for an answer no replica gave (no target in service).
  const counts = countBy(samples, (sample) => (sample.replica === 'none' ? null : sample.replica));
  const replicas = new Set([...replicaIds, ...Object.keys(counts)]);
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  if (replicas.size === 0 || total === 0) return null;
  return round(Math.max(...Object.values(counts)) / (total / replicas.size));
}

/** DESIGN.md: increments acknowledged with a 2xx - final counter value, per user, never below 0. */
export function lostUpdates(counters: readonly CounterRecord[]) {
  let acknowledged = 0;
  let kept = 0;
  let usersAffected = 0;
  for (const counter of counters) {
    const final = Math.min(counter.final ?? 0, counter.acknowledged);
    acknowledged += counter.acknowledged;
    kept += final;
    if (final < counter.acknowledged) usersAffected++;
  }
  return { acknowledged, kept, lost: acknowledged - kept, rate: acknowledged === 0 ? null : (acknowledged - kept) / acknowledged, usersAffected };
}

/** Per user: did every read hit just before the idle timeout, and did any after it? */
export function expiry(samples: readonly Sample[], phases: { before: string; after: string }, replicaIds: readonly string[]): ExpiryMetrics {
  const before = samples.filter((s) => s.phase === phases.before);
  const after = samples.filter((s) => s.phase === phases.after && s.outcome === 'hit');
  const users = [...new Set(before.map((s) => s.user))];
  const replicas = new Set([...replicaIds, ...before.flatMap((s) => (s.replica === null ? [] : [s.replica]))]);
  const replicasOf = (list: readonly Sample[]) => [...new Set(list.flatMap((s) => (s.replica === null ? [] : [s.replica])))].sort();
  return {
    users: users.length,
    replicas: replicas.size,
    replicasServing: replicasOf(before.filter((s) => s.outcome === 'hit')),
    allReadsHit: users.filter((user) => before.every((s) => s.user !== user || s.outcome === 'hit')).length,
    stale: new Set(after.map((s) => s.user)).size,
    staleReplicas: replicasOf(after),
  };
}

/** Requests sent while a store fault was on (between its start and its removal). */
export function storeFault(samples: readonly Sample[], faults: readonly Fault[], readPhases: ReadonlySet<string>, hangMs: number): StoreFaultMetrics | null {
  const windows = faults.filter(isStoreToxicFault);
  if (windows.length === 0) return null;
  const within = (sample: Sample, fault: StoreToxicFault) => sample.at >= fault.at && sample.at <= (fault.endAt ?? Number.POSITIVE_INFINITY);
  const during = samples.filter((sample) => windows.some((fault) => within(sample, fault)));
  // Sent and answered while the store was unreachable: nothing a store-backed session could serve.
  const cutOff = samples.filter((sample) =>
    windows.some((fault) => cutsOffStore(fault) && sample.at >= (fault.appliedAt ?? fault.at) && sample.end <= (fault.endAt ?? Number.POSITIVE_INFINITY)),
  );
  return {
    requests: during.length,
    errorRate: during.length === 0 ? null : during.filter((sample) => sample.outcome === 'error').length / during.length,
    hung: during.filter((sample) => sample.latencyMs > hangMs || sample.error === 'timeout').length,
    hangMs,
    latencyMs: summarizeLatencies(during.filter((sample) => sample.outcome !== 'error').map((sample) => sample.latencyMs)) ?? null,
    failOpen: cutOff.filter((sample) => readPhases.has(sample.phase) && sample.outcome === 'hit').length,
  };
}

/**
 * DESIGN.md: users who had a readable session before the fault and, after the cluster recovered,
 * get no hit in K consecutive reads (K = every read of the `after` phase, at least 2 x replicas).
 */
export function sessionLoss(samples: readonly Sample[], phases: { before: string; after: string }) {
  const hitBefore = new Set(samples.filter((s) => s.phase === phases.before && s.outcome === 'hit').map((s) => s.user));
  const hitAfter = new Set(samples.filter((s) => s.phase === phases.after && s.outcome === 'hit').map((s) => s.user));
  const usersLost = [...hitBefore].filter((user) => !hitAfter.has(user)).length;
  return { usersWithSession: hitBefore.size, usersLost, rate: hitBefore.size === 0 ? null : usersLost / hitBefore.size };
}

/**
 * Recovery from each fault on its own: the requests sent from one fault until the next, so that
 * three outages in a row are three recoveries, not one long one. The longest, or null if any
 * fault was not recovered from before the next (or the end).
 */
export function recoveryAfterFaults(samples: readonly Sample[], faults: readonly Fault[]): number | null {
  const starts = [...new Set(faults.map((fault) => fault.at))].sort((a, b) => a - b);
  let longest = 0;
  for (const [i, at] of starts.entries()) {
    const next = starts[i + 1] ?? Number.POSITIVE_INFINITY;
    const recovery = recoveryMs(samples.filter((sample) => sample.at < next), at);
    if (recovery === null) return null;
    const back = faults.reduce((latest, fault) => (fault.at === at && fault.kind === 'kill-store' && fault.backAt !== undefined ? Math.max(latest, fault.backAt - at) : latest), 0);
    longest = Math.max(longest, recovery, round(back));
  }
  return longest;
}

/** DESIGN.md: from the fault to the first moment after which no request fails. */
export function recoveryMs(samples: readonly Sample[], faultAt: number): number | null {
  const after = samples.filter((sample) => sample.end >= faultAt);
  if (after.length === 0) return null;
  const lastCompleted = after.reduce((last, sample) => (sample.end > last.end ? sample : last));
  if (lastCompleted.outcome === 'error') return null;
  // A dead replica in rotation for a minute (ALB's timing) fails tens of thousands of requests:
  // too many to spread into Math.max.
  const lastFailure = after.reduce((last, sample) => (sample.outcome === 'error' ? Math.max(last, sample.end) : last), -Infinity);
  if (lastFailure === -Infinity) return 0;
  return round(lastFailure - faultAt);
}

/** Errors are counted apart, as for the hit rate: a 502 from the balancer is fast and would flatter p50. */
function latencyBy(samples: readonly Sample[], key: (sample: Sample) => string): Record<string, LatencySummary> {
  const groups = new Map<string, number[]>();
  for (const sample of samples) {
    const list = groups.get(key(sample)) ?? [];
    list.push(sample.latencyMs);
    groups.set(key(sample), list);
  }
  return Object.fromEntries([...groups].map(([name, latencies]) => [name, summarizeLatencies(latencies)!]));
}

function phaseMetrics(phase: { name: string; kind: string }, samples: readonly Sample[]): PhaseMetrics {
  const byReplica: PhaseMetrics['byReplica'] = {};
  for (const sample of samples) {
    if (sample.replica === null) continue;
    const counts = (byReplica[sample.replica] ??= { hits: 0, misses: 0, errors: 0 });
    if (sample.outcome === 'hit') counts.hits++;
    else if (sample.outcome === 'miss') counts.misses++;
    else if (sample.outcome === 'error') counts.errors++;
  }
  return {
    name: phase.name,
    kind: phase.kind,
    requests: samples.length,
    hits: samples.filter((sample) => sample.outcome === 'hit').length,
    misses: samples.filter((sample) => sample.outcome === 'miss').length,
    errors: samples.filter((sample) => sample.outcome === 'error').length,
    byReplica: Object.fromEntries(Object.entries(byReplica).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))),
  };
}

function countBy(samples: readonly Sample[], key: (sample: Sample) => string | null): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) {
    const value = key(sample);
    if (value !== null) counts[value] = (counts[value] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
