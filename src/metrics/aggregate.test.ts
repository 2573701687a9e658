import { describe, expect, it } from 'vitest';
import type { Outcome, Sample } from '../driver/records.js';
import { aggregate, recoveryMs, sessionLoss } from './aggregate.js';

let clock = 0;
function sample(phase: string, user: number, outcome: Outcome, fields: Partial<Sample> = {}): Sample {
  clock += 10;
  return {
    scenario: 's',
    phase,
    kind: phase === 'login' ? 'login' : 'read',
    user,
    replica: 'replica-1',
    status: outcome === 'error' ? 502 : 200,
    latencyMs: 1,
    outcome,
    at: clock,
    end: clock + 1,
    ...fields,
  };
}

describe('hit rate', () => {
  it('is hits over reads that got an answer; errors are counted apart', () => {
    const metrics = aggregate({
      samples: [sample('login', 0, 'ok'), sample('read', 0, 'hit'), sample('read', 0, 'miss'), sample('read', 0, 'miss'), sample('read', 0, 'hit'), sample('read', 0, 'error')],
      faults: [],
      phases: [{ name: 'login', kind: 'login' }, { name: 'read', kind: 'read', ownSessionReads: true }],
    });
    expect(metrics.hitRate).toBe(0.5);
    expect(metrics.missRate).toBe(0.5);
    expect(metrics.errors).toBe(1);
    expect(metrics.reads).toBe(4);
    expect(metrics.requests).toBe(6);
    expect(metrics.phases[1]).toMatchObject({ name: 'read', requests: 5, hits: 2, misses: 2, errors: 1 });
  });

  it('is null when no read got an answer', () => {
    expect(aggregate({ samples: [sample('read', 0, 'error')], faults: [], phases: [{ name: 'read', kind: 'read', ownSessionReads: true }] }).hitRate).toBeNull();
  });

  it('counts only phases whose requests are users reading their own session', () => {
    const samples = [sample('read', 0, 'hit'), sample('stolen', 0, 'miss', { kind: 'stolen-cookie' })];
    const phases = [{ name: 'read', kind: 'read', ownSessionReads: true }, { name: 'stolen', kind: 'stolen-cookie' }];
    expect(aggregate({ samples, faults: [], phases }).hitRate).toBe(1);
  });
});

describe('session loss', () => {
  it('counts users with a hit before and none after, over users with a hit before', () => {
    const samples = [
      // user 0 survives, user 1 is lost, user 2 never had a readable session
      sample('before', 0, 'hit'), sample('after', 0, 'miss'), sample('after', 0, 'hit'),
      sample('before', 1, 'miss'), sample('before', 1, 'hit'), sample('after', 1, 'miss'), sample('after', 1, 'error'),
      sample('before', 2, 'miss'), sample('after', 2, 'miss'),
    ];
    expect(sessionLoss(samples, { before: 'before', after: 'after' })).toEqual({ usersWithSession: 2, usersLost: 1, rate: 0.5 });
  });
});

describe('recovery time', () => {
  it('runs from the fault to the end of the last failed request', () => {
    const samples = [
      sample('r', 0, 'hit', { at: 0, end: 5 }),
      sample('r', 0, 'error', { at: 100, end: 101 }),
      sample('r', 0, 'error', { at: 300, end: 340 }),
      sample('r', 0, 'hit', { at: 350, end: 352 }),
    ];
    expect(recoveryMs(samples, 90)).toBe(250);
  });

  it('is 0 when nothing failed after the fault, and null when failures never stopped', () => {
    expect(recoveryMs([sample('r', 0, 'hit', { at: 100, end: 101 })], 50)).toBe(0);
    expect(recoveryMs([sample('r', 0, 'hit', { at: 100, end: 101 }), sample('r', 0, 'error', { at: 200, end: 210 })], 50)).toBeNull();
  });

  it('is reported with detection time when a fault happened', () => {
    const metrics = aggregate({
      samples: [sample('r', 0, 'error', { at: 100, end: 120 }), sample('r', 0, 'hit', { at: 130, end: 131 })],
      faults: [{ kind: 'kill-replica', target: 'replica-1', at: 100, detectedAt: 180 }],
      phases: [],
    });
    expect(metrics.recoveryMs).toBe(20);
    expect(metrics.recovered).toBe(true);
    expect(metrics.detectionMs).toBe(80);
  });

  it('says not recovered, rather than a time, when requests were still failing at the end', () => {
    const metrics = aggregate({
      samples: [sample('r', 0, 'hit', { at: 130, end: 131 }), sample('r', 0, 'error', { at: 140, end: 150 })],
      faults: [{ kind: 'kill-replica', target: 'replica-1', at: 100 }],
      phases: [],
    });
    expect(metrics.recovered).toBe(false);
    expect(metrics.recoveryMs).toBeNull();
    expect(aggregate({ samples: [], faults: [], phases: [] }).recovered).toBeNull();
  });
});

describe('latency', () => {
  it('summarises per phase name and per kind, leaving out errors (no answer, or a 5xx)', () => {
    const samples = [1, 2, 3, 4, 100].map((ms) => sample('before', 0, 'hit', { latencyMs: ms }));
    samples.push(sample('before', 0, 'error', { status: 0, latencyMs: 5000 }));
    samples.push(sample('before', 0, 'error', { status: 502, latencyMs: 0.1 }));
    samples.push(sample('after', 0, 'hit', { latencyMs: 7 }));
    const { latencyMs, latencyByKind } = aggregate({ samples, faults: [], phases: [] });
    // HDR keeps 3 significant digits: 3 ms may come back as 3.001 ms.
    expect(latencyMs.before!.count).toBe(5);
    expect(latencyMs.before!.p50).toBeCloseTo(3, 2);
    expect(latencyMs.before!.p99).toBeCloseTo(100, 0);
    expect(latencyMs.before!.max).toBeCloseTo(100, 0);
    expect(latencyMs.after!.count).toBe(1);
    expect(latencyByKind.read!.count).toBe(6);
  });
});
