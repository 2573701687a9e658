import { describe, expect, it } from 'vitest';
import type { ReplicaReadRecord, ReplicaReadsRecord } from '../driver/records.js';
import { describeReplicaReads, replicaReadsMetrics, replicaReadsPart } from './replica-reads.js';

const read = (acknowledged: number, value: number | null, status = 200): ReplicaReadRecord => ({ user: 0, at: 0, end: 1, acknowledged, status, value });
const part = (reads: ReplicaReadRecord[], replicationDelayMs = 0, phase = 'reads'): ReplicaReadsRecord => ({ phase, replicationDelayMs, reader: 'node-2', writes: reads.length + 1, writesAcknowledged: reads.length, reads });

describe('read-your-writes violations', () => {
  it('are reads that show no session or a counter below the acknowledged one; equal or above is no violation', () => {
    const m = replicaReadsPart(part([read(3, 3), read(4, 5), read(5, null), read(6, 4), read(7, 6), read(8, 7)]));
    expect(m).toMatchObject({ reads: 6, answered: 6, errors: 0, missing: 1, stale: 3, violations: 4, behindMax: 2, behindP50: 1 });
    expect(m.violationRate).toBeCloseTo(4 / 6);
  });

  it('count reads with no answer or a 5xx apart: neither kept nor violated', () => {
    const m = replicaReadsPart(part([read(1, null, 0), read(2, null, 503), read(3, null, 401), read(4, 4)]));
    // A 401 is an answer: the replica's app found no session there.
    expect(m).toMatchObject({ reads: 4, answered: 2, errors: 2, missing: 1, stale: 0, violations: 1, behindMax: null, behindP50: null });
  });

  it('count a 4xx that says nothing of a session (429, a CSRF 422, 400) with the errors, never as a session missing; a redirect to the login page and 401/403/404/410 are no session', () => {
    const m = replicaReadsPart(part([read(1, null, 429), read(2, null, 422), read(3, null, 400), read(4, null, 302), read(5, null, 403), read(6, null, 404), read(7, null, 410)]));
    expect(m).toMatchObject({ reads: 7, answered: 4, errors: 3, missing: 4 });
  });

  it('give no rate without an answered read, rather than 0', () => {
    expect(replicaReadsPart(part([read(1, null, 0)])).violationRate).toBeNull();
    expect(replicaReadsPart(part([])).violationRate).toBeNull();
  });

  it('take the lower median of how far behind, a whole number of writes', () => {
    expect(replicaReadsPart(part([read(5, 4), read(5, 2), read(5, 1), read(5, 3)])).behindP50).toBe(2);
  });

  it('sum the parts for expectations and say each part with its delay in one line', () => {
    const m = replicaReadsMetrics([part([read(1, 1), read(2, 2)]), part([read(3, 1), read(4, null), read(5, 5)], 200, 'reads-delayed')]);
    expect(m).toMatchObject({ answered: 5, violations: 2, missing: 1, stale: 1 });
    expect(m.parts.map((p) => p.replicationDelayMs)).toEqual([0, 200]);
    expect(describeReplicaReads(m)).toBe('read-your-writes: 0/2 reads violated (no delay), 2/3 (200 ms delay; 1 no session, 1 stale; up to 2 behind (median 2))');
  });

  it('say failed reads in the line', () => {
    expect(describeReplicaReads(replicaReadsMetrics([part([read(1, 1), read(2, null, 0)])]))).toBe('read-your-writes: 0/1 reads violated (no delay; 1 reads failed)');
  });
});
