import type { Fault, Sample } from '../driver/records.js';
import { summarizeLatencies, type LatencySummary } from './histogram.js';

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
  /** Users who could read their session before the fault and got no hit in any read after it. */
  sessionLoss: number | null;
  usersWithSession: number | null;
  usersLost: number | null;
  /** From the first fault to the completion of the last failed request after it; null without a fault or when `recovered` is false. */
  recoveryMs: number | null;
  /** Whether requests had stopped failing by the end of the scenario; null without a fault. */
  recovered: boolean | null;
  /** From the first fault until the balancer took the faulty target out of rotation. */
  detectionMs: number | null;
  /** Latency per phase, by phase name, over requests that got a non-error answer. */
  latencyMs: Record<string, LatencySummary>;
  /** The same, pooled by phase kind (all `read` phases together, ...): the table's login and read columns. */
  latencyByKind: Record<string, LatencySummary>;
  requestsPerReplica: Record<string, number>;
  phases: PhaseMetrics[];
}

export interface PhaseMetrics {
  name: string;
  kind: string;
  requests: number;
  hits: number;
  misses: number;
  errors: number;
}

export interface AggregateInput {
  samples: readonly Sample[];
  faults: readonly Fault[];
  /** The scenario's phases in order; `ownSessionReads` marks the ones that make the hit rate. */
  phases: readonly { name: string; kind: string; ownSessionReads?: boolean }[];
  sessionLoss?: { before: string; after: string };
}

export function aggregate(input: AggregateInput): ScenarioMetrics {
  const { samples } = input;
  const readPhases = new Set(input.phases.filter((phase) => phase.ownSessionReads).map((phase) => phase.name));
  const reads = samples.filter((sample) => readPhases.has(sample.phase));
  const answered = reads.filter((sample) => sample.outcome !== 'error');
  const hits = answered.filter((sample) => sample.outcome === 'hit').length;
  const loss = input.sessionLoss ? sessionLoss(samples, input.sessionLoss) : undefined;
  const firstFault = input.faults.reduce<Fault | undefined>((first, fault) => (!first || fault.at < first.at ? fault : first), undefined);
  const recovery = firstFault ? recoveryMs(samples, firstFault.at) : null;
  const measured = samples.filter((sample) => sample.outcome !== 'error');

  return {
    requests: samples.length,
    reads: answered.length,
    hitRate: answered.length === 0 ? null : hits / answered.length,
    missRate: answered.length === 0 ? null : (answered.length - hits) / answered.length,
    errors: samples.filter((sample) => sample.outcome === 'error').length,
    sessionLoss: loss?.rate ?? null,
    usersWithSession: loss?.usersWithSession ?? null,
    usersLost: loss?.usersLost ?? null,
    recoveryMs: recovery,
    recovered: firstFault ? recovery !== null : null,
    detectionMs: firstFault?.detectedAt !== undefined ? round(firstFault.detectedAt - firstFault.at) : null,
    latencyMs: latencyBy(measured, (sample) => sample.phase),
    latencyByKind: latencyBy(measured, (sample) => sample.kind),
    requestsPerReplica: countBy(samples, (sample) => sample.replica),
    phases: input.phases.map((phase) => phaseMetrics(phase, samples.filter((sample) => sample.phase === phase.name))),
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

/** DESIGN.md: from the fault to the first moment after which no request fails. */
export function recoveryMs(samples: readonly Sample[], faultAt: number): number | null {
  const after = samples.filter((sample) => sample.end >= faultAt);
  if (after.length === 0) return null;
  const lastCompleted = after.reduce((last, sample) => (sample.end > last.end ? sample : last));
  if (lastCompleted.outcome === 'error') return null;
  const failures = after.filter((sample) => sample.outcome === 'error');
  if (failures.length === 0) return 0;
  return round(Math.max(...failures.map((sample) => sample.end)) - faultAt);
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
  return {
    name: phase.name,
    kind: phase.kind,
    requests: samples.length,
    hits: samples.filter((sample) => sample.outcome === 'hit').length,
    misses: samples.filter((sample) => sample.outcome === 'miss').length,
    errors: samples.filter((sample) => sample.outcome === 'error').length,
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
