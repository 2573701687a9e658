import { judgedReplicaRead, type ReplicaReadsRecord } from '../driver/records.js';

/**
 * DESIGN.md's read-your-writes violations, per part of replica-reads (without and with the
 * replication delay): reads through the reader endpoint, each sent right after the user's own
 * write was acknowledged, that show no session or an older counter.
 */
export interface ReplicaReadsPart {
  phase: string;
  /** The latency on the replication links during the part; 0 without. */
  replicationDelayMs: number;
  /** The replica the reader endpoint reached. */
  reader: string;
  writes: number;
  writesAcknowledged: number;
  /** Reads sent through the reader endpoint (one per acknowledged write). */
  reads: number;
  /** Reads whose answer can show a session or its absence (2xx, 3xx, 401, 403, 404, 410): the ones judged. */
  answered: number;
  /** Reads with no answer, a 5xx or another 4xx: counted apart, neither kept nor violated. */
  errors: number;
  /** Answered reads that showed no session (no counter). */
  missing: number;
  /** Answered reads whose counter was below the user's last acknowledged one. */
  stale: number;
  /** missing + stale. */
  violations: number;
  /** violations / answered; null without an answered read. */
  violationRate: number | null;
  /** How many writes behind the stale reads were (acknowledged − shown): the largest, and the median; null without a stale read. */
  behindMax: number | null;
  behindP50: number | null;
}

export interface ReplicaReadsMetrics {
  parts: ReplicaReadsPart[];
  /** Over every part: what an expectation names (`replicaReads.violations`). */
  answered: number;
  violations: number;
  missing: number;
  stale: number;
}

const isAnswered = judgedReplicaRead;

export function replicaReadsPart(record: ReplicaReadsRecord): ReplicaReadsPart {
  const answered = record.reads.filter(isAnswered);
  const missing = answered.filter((read) => read.value === null).length;
  const behind = answered.flatMap((read) => (read.value !== null && read.value < read.acknowledged ? [read.acknowledged - read.value] : [])).sort((a, b) => a - b);
  const violations = missing + behind.length;
  return {
    phase: record.phase,
    replicationDelayMs: record.replicationDelayMs,
    reader: record.reader,
    writes: record.writes,
    writesAcknowledged: record.writesAcknowledged,
    reads: record.reads.length,
    answered: answered.length,
    errors: record.reads.length - answered.length,
    missing,
    stale: behind.length,
    violations,
    violationRate: answered.length === 0 ? null : violations / answered.length,
    behindMax: behind.length === 0 ? null : behind[behind.length - 1]!,
    behindP50: behind.length === 0 ? null : median(behind),
  };
}

export function replicaReadsMetrics(records: readonly ReplicaReadsRecord[]): ReplicaReadsMetrics {
  const parts = records.map(replicaReadsPart);
  const sum = (pick: (part: ReplicaReadsPart) => number) => parts.reduce((total, part) => total + pick(part), 0);
  return { parts, answered: sum((part) => part.answered), violations: sum((part) => part.violations), missing: sum((part) => part.missing), stale: sum((part) => part.stale) };
}

/** The lower median of sorted whole numbers: a count of writes, never a half. */
function median(sorted: readonly number[]): number {
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** The figures in one line, as the table's cell says them. */
export function describeReplicaReads(m: ReplicaReadsMetrics): string {
  const parts = m.parts.map((part, i) => {
    const delay = part.replicationDelayMs > 0 ? `${part.replicationDelayMs} ms delay` : 'no delay';
    const details = [delay];
    if (part.violations > 0) details.push(`${part.missing} no session, ${part.stale} stale`);
    if (part.behindMax !== null) details.push(`up to ${part.behindMax} behind (median ${part.behindP50})`);
    if (part.errors > 0) details.push(`${part.errors} reads failed`);
    return `${part.violations}/${part.answered}${i === 0 ? ' reads violated' : ''} (${details.join('; ')})`;
  });
  return `read-your-writes: ${parts.join(', ')}`;
}
