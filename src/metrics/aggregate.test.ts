import { describe, expect, it } from 'vitest';
import type { Fault, LoginRecord, Outcome, Sample } from '../driver/records.js';
import type { KillStoreFault } from '../driver/phases/kill-store.js';
import type { StoreToxicFault } from '../driver/phases/store-fault.js';
import { aggregate, expiry, imbalance, lostUpdates, recoveryAfterFaults, recoveryMs, replicasKnown, sessionLoss, storeFault } from './aggregate.js';

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

describe('failed logins', () => {
  const phases = [
    { name: 'login', kind: 'login' },
    { name: 'before', kind: 'read', ownSessionReads: true },
    { name: 'after', kind: 'read', ownSessionReads: true },
  ];

  it('are counted apart, and their users are left out of hit rate and session loss', () => {
    clock = 0;
    // User 0 logged in; user 1's login was refused (403), user 2's answered without a session cookie.
    const logins = [sample('login', 0, 'ok'), sample('login', 1, 'rejected', { status: 403 }), sample('login', 2, 'ok')];
    const records: LoginRecord[] = [
      { user: 0, end: logins[0]!.end, status: 200 },
      { user: 1, end: logins[1]!.end, status: 403, failure: 'answered 403', body: 'CSRF token missing' },
      { user: 2, end: logins[2]!.end, status: 200, failure: 'answered 200 without a SID cookie' },
    ];
    const samples = [
      ...logins,
      sample('before', 0, 'hit'), sample('before', 1, 'miss'), sample('before', 2, 'miss'),
      sample('after', 0, 'hit'), sample('after', 1, 'miss'), sample('after', 2, 'miss'),
    ];
    const metrics = aggregate({ samples, faults: [], phases, sessionLoss: { before: 'before', after: 'after' }, logins: records });
    expect(metrics).toMatchObject({ logins: 3, failedLogins: 2, reads: 2, hitRate: 1, missRate: 0, usersWithSession: 1, usersLost: 0, sessionLoss: 0 });
    // The requests themselves still happened: they are in the request count and the phases.
    expect(metrics.requests).toBe(9);
    expect(metrics.phases[1]).toMatchObject({ requests: 3, hits: 1, misses: 2 });
  });

  it('leave no hit rate at all, rather than 0%, when every login failed', () => {
    clock = 0;
    const login = sample('login', 0, 'rejected', { status: 403 });
    const metrics = aggregate({
      samples: [login, sample('before', 0, 'miss'), sample('after', 0, 'miss')],
      faults: [],
      phases,
      sessionLoss: { before: 'before', after: 'after' },
      logins: [{ user: 0, end: login.end, status: 403, failure: 'answered 403' }],
    });
    expect(metrics).toMatchObject({ logins: 1, failedLogins: 1, reads: 0, hitRate: null, missRate: null, sessionLoss: null, usersWithSession: 0 });
  });

  it('count only until the same user logs in again successfully', () => {
    clock = 0;
    const failed = sample('login', 0, 'rejected', { status: 403 });
    const missed = sample('before', 0, 'miss');
    const retried = sample('login', 0, 'ok');
    const hit = sample('after', 0, 'hit');
    const records: LoginRecord[] = [
      { user: 0, end: retried.end, status: 302 },
      { user: 0, end: failed.end, status: 403, failure: 'answered 403' },
    ];
    const metrics = aggregate({ samples: [failed, missed, retried, hit], faults: [], phases, logins: records });
    expect(metrics).toMatchObject({ logins: 2, failedLogins: 1, reads: 1, hitRate: 1 });
  });

  it('are 0 of 0 in a scenario without a login phase', () => {
    expect(aggregate({ samples: [sample('before', 0, 'hit')], faults: [], phases })).toMatchObject({ logins: 0, failedLogins: 0, hitRate: 1 });
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

  it('with several faults, is each one\'s own recovery (the longest), not the time since the first', () => {
    const samples = [
      sample('r', 0, 'error', { at: 100, end: 110 }),
      sample('r', 0, 'hit', { at: 150, end: 151 }),
      sample('r', 0, 'error', { at: 1_000, end: 1_040 }),
      sample('r', 0, 'hit', { at: 1_100, end: 1_101 }),
    ];
    const faults: Fault[] = [
      { kind: 'store-down', target: 'redis', at: 100, detail: { type: 'down', durationMs: 500 } },
      { kind: 'store-reset_peer', target: 'redis', at: 1_000, detail: { type: 'reset_peer', durationMs: 500 } },
    ];
    expect(recoveryAfterFaults(samples, faults)).toBe(40);
    // Still failing when the next fault came: not recovered from the first.
    expect(recoveryAfterFaults([sample('r', 0, 'error', { at: 100, end: 990 }), ...samples.slice(2)], faults)).toBeNull();
  });

  it('lasts at least until the service was seen back, when the app answered misses (401s), not errors, meanwhile', () => {
    // A store down from 100 to 3,600: the app failed closed, so no request was an error.
    const samples = [sample('r', 0, 'miss', { at: 200, end: 210 }), sample('r', 0, 'hit', { at: 3_700, end: 3_710 })];
    const killed: KillStoreFault = { kind: 'kill-store', target: 'redis', at: 100, detail: { signal: 'SIGKILL', downMs: 0 } };
    expect(recoveryAfterFaults(samples, [killed])).toBe(0);
    expect(recoveryAfterFaults(samples, [{ ...killed, backAt: 3_600 }])).toBe(3_500);
    // An error later than that still counts.
    expect(recoveryAfterFaults([...samples, sample('r', 0, 'error', { at: 3_800, end: 4_100 }), sample('r', 0, 'hit', { at: 4_200, end: 4_210 })], [{ ...killed, backAt: 3_600 }])).toBe(4_000);
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

  it("takes a row as long as ALB's timing makes one: half a million samples, a third of them failed", () => {
    // A rolling restart at the alb profile reads for minutes at full speed; Math.max(...samples) threw here.
    const samples = Array.from({ length: 500_000 }, (_, i) => sample('r', i % 30, i < 300_000 && i % 3 === 0 ? 'error' : 'hit', { at: i, end: i + 1 }));
    const metrics = aggregate({ samples, faults: [{ kind: 'kill-replica', target: 'replica-1', at: 0, detectedAt: 300_000 }], phases: [{ name: 'r', kind: 'read', ownSessionReads: true }] });
    expect(metrics.recoveryMs).toBe(299_998);
    expect(metrics.timeline!.bucketMs).toBe(1_000);
    expect(metrics.timeline!.hits).toHaveLength(501);
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

describe('imbalance (busiest replica / mean per replica)', () => {
  it('is 1 for an even spread and counts replicas that served nothing', () => {
    const on = (replica: string) => sample('read', 0, 'hit', { replica });
    expect(imbalance([on('replica-1'), on('replica-2'), on('replica-3')], ['replica-1', 'replica-2', 'replica-3'])).toBe(1);
    // 4 requests over 2 replicas, all on one: 4 / 2 = 2.
    expect(imbalance([on('replica-1'), on('replica-1'), on('replica-1'), on('replica-1')], ['replica-1', 'replica-2'])).toBe(2);
    expect(imbalance([], ['replica-1'])).toBeNull();
  });

  it("counts only the replicas seen when names are not the cluster's ids (run.ts passes no ids): even traffic is 1", () => {
    const on = (replica: string | null, status = 200) => sample('read', 0, 'hit', { replica, status });
    const even = ['127.0.0.1:18081', '127.0.0.1:18082', '127.0.0.1:18083'].flatMap((replica) => Array.from({ length: 110 }, () => on(replica)));
    expect(imbalance(even, [])).toBe(1);
    // The bug of issue 14: the cluster's ids beside a proxy's names made 6 replicas of 3.
    expect(imbalance(even, ['replica-1', 'replica-2', 'replica-3'])).toBe(2);
    // A proxy's own 502s name no replica and are in no replica's count.
    expect(imbalance([...even, ...Array.from({ length: 50 }, () => on(null, 502))], [])).toBe(1);
    expect(imbalance(Array.from({ length: 9 }, () => on(null, 502)), [])).toBeNull();
  });

  it('per-replica figures of a row with names from a profile: only answers that named a replica count', () => {
    const samples = [
      sample('read', 0, 'hit', { replica: 'web-1' }),
      sample('read', 1, 'hit', { replica: 'web-2' }),
      sample('read', 2, 'error', { replica: null, status: 502 }),
      sample('read', 3, 'hit', { replica: 'web-1' }),
      sample('read', 4, 'hit', { replica: 'web-2' }),
    ];
    const metrics = aggregate({ samples, faults: [], phases: [{ name: 'read', kind: 'read', ownSessionReads: true }] });
    expect(metrics.requestsPerReplica).toEqual({ 'web-1': 2, 'web-2': 2 });
    expect(metrics.imbalance).toBe(1);
    expect(metrics.replicasKnown).toBe(true);
    expect(metrics.phases[0]!.byReplica).toEqual({ 'web-1': { hits: 2, misses: 0, errors: 0 }, 'web-2': { hits: 2, misses: 0, errors: 0 } });
  });
});

describe('replicasKnown', () => {
  it('is false only when replicas answered and no answer named one', () => {
    const answered = (replica: string | null, status = 200) => sample('read', 0, 'hit', { replica, status });
    expect(replicasKnown([answered(null), answered(null)])).toBe(false);
    expect(replicasKnown([answered(null), answered('web-1')])).toBe(true);
    // Nothing a replica gave: no answer at all, or only a proxy's own errors; nothing to name.
    expect(replicasKnown([answered(null, 0), answered(null, 502), answered(null, 503), answered(null, 504)])).toBe(true);
    expect(replicasKnown([answered(null, 502), answered(null, 500)])).toBe(false);
    expect(replicasKnown([])).toBe(true);
  });
});

describe('lost updates (acknowledged - final counter value)', () => {
  it('sums per user, never counting a counter above what was acknowledged', () => {
    expect(lostUpdates([{ user: 0, acknowledged: 8, final: 5 }, { user: 1, acknowledged: 8, final: 8 }, { user: 2, acknowledged: 4, final: 9 }, { user: 3, acknowledged: 2, final: null }])).toEqual({
      acknowledged: 22,
      kept: 5 + 8 + 4,
      lost: 3 + 2,
      rate: 5 / 22,
      usersAffected: 2,
    });
  });
});

describe('expiry', () => {
  it('asks per user whether every read hit before the timeout, and whether any did after it', () => {
    const samples = [
      sample('fresh', 0, 'hit', { replica: 'replica-1' }),
      sample('fresh', 0, 'hit', { replica: 'replica-2' }),
      sample('fresh', 1, 'hit', { replica: 'replica-1' }),
      sample('fresh', 1, 'miss', { replica: 'replica-2' }),
      sample('expired', 0, 'miss', { replica: 'replica-1' }),
      sample('expired', 1, 'hit', { replica: 'replica-2' }),
    ];
    expect(expiry(samples, { before: 'fresh', after: 'expired' }, ['replica-1', 'replica-2'])).toEqual({
      users: 2,
      replicas: 2,
      replicasServing: ['replica-1', 'replica-2'],
      allReadsHit: 1,
      stale: 1,
      staleReplicas: ['replica-2'],
    });
  });
});

describe('store faults', () => {
  const fault: StoreToxicFault = { kind: 'store-down', target: 'redis', at: 100, endAt: 200, detail: { type: 'down', durationMs: 100 } };
  it('counts errors, hung requests and reads served while the store was cut off', () => {
    const samples = [
      sample('read', 0, 'hit', { at: 50, end: 60 }),
      sample('read', 0, 'error', { at: 110, end: 120 }),
      sample('read', 0, 'hit', { at: 130, end: 140 }),
      sample('read', 0, 'error', { at: 150, end: 1_650, latencyMs: 1_500 }),
      // Sent during the outage, answered after it: the store served it, not a cache.
      sample('read', 0, 'hit', { at: 190, end: 210 }),
    ];
    expect(storeFault(samples, [fault], new Set(['read']), 1_000)).toMatchObject({ requests: 4, errorRate: 0.5, hung: 1, hangMs: 1_000, failOpen: 1, latencyMs: { p50: 1 } });
  });

  it('counts a read as served without its store only once the toxic was in effect, not from when it was asked for', () => {
    const applied = { ...fault, appliedAt: 125 };
    const samples = [sample('read', 0, 'hit', { at: 110, end: 115 }), sample('read', 0, 'hit', { at: 130, end: 140 })];
    expect(storeFault(samples, [applied], new Set(['read']), 1_000)).toMatchObject({ requests: 2, failOpen: 1 });
  });

  it('does not call hits during added latency fail-open, and is null without a store fault', () => {
    const slow: StoreToxicFault = { ...fault, kind: 'store-latency', detail: { type: 'latency', latencyMs: 500, durationMs: 100 } };
    expect(storeFault([sample('read', 0, 'hit', { at: 130, end: 140 })], [slow], new Set(['read']), 1_000)?.failOpen).toBe(0);
    expect(storeFault([], [{ kind: 'kill-replica', target: 'replica-1', at: 1 }], new Set(['read']), 1_000)).toBeNull();
  });
});
