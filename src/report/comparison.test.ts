import { describe, expect, it } from 'vitest';
import type { ScenarioMetrics } from '../metrics/aggregate.js';
import { comparisonCells, comparisonHeader, hasComparedScenarios, joinClauses, share, summarize, tradeOffLine } from './comparison.js';
import { chooseStrategy, variantRecord } from '../strategies.js';
import type { Report, ResultRow } from './model.js';
import type { Pricing } from './pricing.js';

const latency = (p50: number, p99: number) => ({ count: 100, p50, p95: p99, p99, max: p99 });

function metrics(overrides: Partial<ScenarioMetrics> = {}): ScenarioMetrics {
  return {
    requests: 300,
    reads: 300,
    hitRate: 1,
    missRate: 0,
    errors: 0,
    logins: 30,
    failedLogins: 0,
    sessionLoss: null,
    usersWithSession: null,
    usersLost: null,
    recoveryMs: null,
    recovered: null,
    detectionMs: null,
    latencyMs: {},
    latencyByKind: { login: latency(10, 20), read: latency(5, 12) },
    requestsPerReplica: {},
    replicasKnown: true,
    imbalance: 1,
    lostUpdates: null,
    expiry: null,
    storeFault: null,
    faults: [],
    phases: [],
    timeline: null,
    readLatencyDistribution: null,
    ...overrides,
  };
}

const ok = (strategy: string, scenario: string, overrides: Partial<ScenarioMetrics> = {}): ResultRow => ({ strategy, scenario, status: 'ok', metrics: metrics(overrides) });
const loss = (lost: number, of: number): Partial<ScenarioMetrics> => ({ sessionLoss: lost / of, usersLost: lost, usersWithSession: of });
const updates = (acknowledged: number, kept: number): Partial<ScenarioMetrics> => ({
  hitRate: null,
  lostUpdates: { acknowledged, kept, lost: acknowledged - kept, rate: (acknowledged - kept) / acknowledged, usersAffected: 1 },
});

function report(strategies: string[], results: ResultRow[], replicas = 3): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'hactl', version: '0.0.0' },
    runId: 'r',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1,
    settings: {
      strategies,
      // As a run states them: what each label it ran stands for.
      strategyVariants: [...new Set([...strategies, ...results.map((row) => row.strategy)])].flatMap((label) => {
        const choice = chooseStrategy(label);
        return typeof choice === 'string' ? [] : [variantRecord(choice)];
      }),
      scenarios: [...new Set(results.map((row) => row.scenario))],
      replicas,
      users: 30,
      reads: 10,
      concurrency: 10,
      seed: 1,
      runtime: 'local',
      requestTimeoutMs: 10_000,
      balancer: {
        kind: 'hactl',
        profile: 'fast',
        algorithm: 'round_robin',
        healthCheck: { path: '/health', intervalMs: 200, timeoutMs: 150, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200' },
        stickiness: { cookieName: 'AWSALB', durationSeconds: 86_400 },
        upstreamTimeoutMs: 5_000,
        connectTimeoutMs: 1_000,
        deregistrationDelayMs: 5_000,
      },
    },
    results,
  };
}

/** Figures shaped like DESIGN.md's oracle, but chosen so that each is distinct. */
const full = report(
  ['none', 'sticky', 'redis', 'redis:aof-always'],
  [
    ok('none', 'login-read', { hitRate: 0.34, latencyByKind: { read: latency(6.5, 17.25) } }),
    ok('none', 'kill-node', loss(10, 30)),
    { strategy: 'none', scenario: 'kill-store', status: 'skipped', reason: 'kill-store needs a session store; strategy none keeps sessions in replica memory' },
    ok('none', 'concurrent-writes', updates(240, 100)),
    ok('none', 'imbalance', { imbalance: 1.02 }),
    ok('sticky', 'login-read', { latencyByKind: { read: latency(4, 29.33) } }),
    ok('sticky', 'kill-node', loss(11, 30)),
    { strategy: 'sticky', scenario: 'kill-store', status: 'skipped', reason: 'no store' },
    ok('sticky', 'concurrent-writes', updates(240, 94)),
    ok('sticky', 'imbalance', { imbalance: 1.35 }),
    ok('redis', 'login-read', { latencyByKind: { read: latency(6.57, 8.25) } }),
    ok('redis', 'kill-node', loss(0, 30)),
    ok('redis', 'kill-store', loss(30, 30)),
    ok('redis', 'concurrent-writes', updates(240, 78)),
    ok('redis', 'imbalance', { imbalance: 1 }),
    ok('redis:aof-always', 'login-read', { latencyByKind: { read: latency(7.71, 23.15) } }),
    ok('redis:aof-always', 'kill-node', loss(0, 30)),
    ok('redis:aof-always', 'kill-store', loss(0, 30)),
    ok('redis:aof-always', 'concurrent-writes', updates(240, 240)),
    ok('redis:aof-always', 'imbalance', { imbalance: 1.01 }),
  ],
);

const byStrategy = (r: Report, pricing?: Pricing) => Object.fromEntries(summarize(r, pricing).strategies.map((s) => [s.strategy, s]));

describe('summarize', () => {
  it('takes each figure from the scenario that measures it, one row per strategy in the order of the run', () => {
    const comparison = summarize(full);
    expect(comparison.strategies.map((s) => s.strategy)).toEqual(['none', 'sticky', 'redis', 'redis:aof-always']);
    expect(comparison.imbalanceFrom).toBe('imbalance');
    expect(comparisonHeader(comparison)).toEqual([
      'strategy',
      'hit rate (login-read)',
      'sessions lost, replica killed (kill-node)',
      'sessions lost, store killed (kill-store)',
      'lost updates (concurrent-writes)',
      'read p50 / p99 ms (login-read)',
      'busiest replica ÷ mean (imbalance)',
    ]);
    expect(comparison.strategies.map(comparisonCells)).toEqual([
      ['none', '34.0%', '33.3% (10/30)', 'n/a', '58.3% (140/240)', '6.50 / 17.25', '1.02'],
      ['sticky', '100.0%', '36.7% (11/30)', 'n/a', '60.8% (146/240)', '4.00 / 29.33', '1.35'],
      ['redis', '100.0%', '0.0% (0/30)', '100.0% (30/30)', '67.5% (162/240)', '6.57 / 8.25', '1.00'],
      ['redis:aof-always', '100.0%', '0.0% (0/30)', '0.0% (0/30)', '0.0% (0/240)', '7.71 / 23.15', '1.01'],
    ]);
  });

  it('gives a variant its own row and figures (redis:aof-always is not redis)', () => {
    const s = byStrategy(full);
    expect(s['redis']!.storeLoss).toEqual({ state: 'measured', value: { rate: 1, lost: 30, of: 30 } });
    expect(s['redis:aof-always']!.storeLoss).toEqual({ state: 'measured', value: { rate: 0, lost: 0, of: 30 } });
    expect(s['redis']!.persistence).toBe('none');
    expect(s['redis:aof-always']!.persistence).toBe('aof-always');
  });

  it('says n/a for the store figure of a strategy without a store, whether or not the row was skipped', () => {
    const s = byStrategy(report(['none', 'sticky:app_cookie'], [ok('none', 'login-read'), ok('sticky:app_cookie', 'login-read')]));
    expect(s['none']!.storeLoss).toEqual({ state: 'n/a' });
    expect(s['sticky:app_cookie']!.storeLoss).toEqual({ state: 'n/a' });
    expect(byStrategy(full)['sticky']!.storeLoss).toEqual({ state: 'n/a' });
  });

  it('shows a figure whose scenario was not run as —, skipped as skipped and a failed row as error', () => {
    const partial = report(
      ['redis', 'postgres', 'mongo'],
      [
        ok('redis', 'login-read'),
        ok('postgres', 'login-read'),
        { strategy: 'postgres', scenario: 'kill-node', status: 'error', reason: 'the cluster did not start' },
        { strategy: 'mongo', scenario: 'login-read', status: 'skipped', reason: 'no mongod on PATH' },
        { strategy: 'mongo', scenario: 'kill-node', status: 'skipped', reason: 'no mongod on PATH' },
      ],
    );
    const cells = summarize(partial).strategies.map(comparisonCells);
    expect(cells).toEqual([
      ['redis', '100.0%', '—', '—', '—', '5.00 / 12.00', '1.00'],
      ['postgres', '100.0%', 'error', '—', '—', '5.00 / 12.00', '1.00'],
      ['mongo', 'skipped', 'skipped', '—', '—', 'skipped', 'skipped'],
    ]);
  });

  it('takes the imbalance from login-read when the imbalance scenario did not run, and says so in the header', () => {
    const comparison = summarize(report(['sticky'], [ok('sticky', 'login-read', { imbalance: 1.12 })]));
    expect(comparison.imbalanceFrom).toBe('login-read');
    expect(comparisonHeader(comparison).at(-1)).toBe('busiest replica ÷ mean (login-read)');
    expect(comparisonCells(comparison.strategies[0]!).at(-1)).toBe('1.12');
  });

  it('keeps to the imbalance scenario for every row once it ran for one (no mixing of sources in a column)', () => {
    const mixed = report(['none', 'sticky'], [ok('none', 'login-read', { imbalance: 1.01 }), ok('sticky', 'login-read', { imbalance: 1.02 }), ok('sticky', 'imbalance', { imbalance: 1.4 })]);
    expect(summarize(mixed).strategies.map((s) => comparisonCells(s).at(-1))).toEqual(['—', '1.40']);
  });

  it('shows — where a row ran but yielded no figure (nobody had a session before the fault)', () => {
    const s = byStrategy(report(['none'], [ok('none', 'kill-node', { sessionLoss: null, usersLost: 0, usersWithSession: 0 })]));
    expect(s['none']!.replicaLoss).toEqual({ state: 'no data' });
    expect(comparisonCells(s['none']!)[2]).toBe('—');
  });

  it('adds the monthly cost with pricing: replicas x app + store, "no price" for an unpriced store', () => {
    const pricing: Pricing = {
      region: 'eu-test-1',
      currency: 'EUR',
      class: 'small',
      source: { title: 't', url: 'https://example.com', retrieved: '2026-01-01' },
      instances: { app: { type: 'small', hourly: 0.1, source: 'https://example.com' }, redis: { type: 'cache.small', hourly: 0.05, source: 'https://example.com' } },
    };
    const priced = report(['sticky', 'redis', 'mongo'], [ok('sticky', 'login-read'), ok('redis', 'login-read'), ok('mongo', 'login-read')], 2);
    const comparison = summarize(priced, pricing);
    expect(comparisonHeader(comparison).at(-1)).toBe('cost per month, EUR');
    expect(comparison.strategies.map((s) => comparisonCells(s).at(-1))).toEqual(['146.00', '182.50', 'no price']);
    expect(tradeOffLine(comparison.strategies[1]!)).toContain('; 182.50 EUR a month.');
    expect(tradeOffLine(comparison.strategies[2]!)).not.toContain('a month');
  });
});

describe('tradeOffLine', () => {
  const lines = summarize(full).strategies.map(tradeOffLine);

  it('states what each strategy measured, strengths first, from its figures only', () => {
    expect(lines).toEqual([
      '**none** finds the session in 34.0% of reads and loses 33.3% of sessions with a replica and 58.3% of concurrent updates; p99 read 17 ms; requests per replica up to 1.02 × the mean.',
      '**sticky** finds every session (100.0% hits), but loses 36.7% of sessions with a replica and 60.8% of concurrent updates; p99 read 29 ms; requests per replica up to 1.35 × the mean.',
      '**redis** finds every session (100.0% hits) and keeps every session through a replica failure, but loses 100.0% of sessions when the store restarts without persistence and 67.5% of concurrent updates; p99 read 8.3 ms; requests per replica up to 1.00 × the mean.',
      '**redis:aof-always** finds every session (100.0% hits), keeps every session through a replica failure and a store restart, and keeps every concurrent update; p99 read 23 ms; requests per replica up to 1.01 × the mean.',
    ]);
  });

  it('changes with the figures: a different loss gives a different line', () => {
    const changed = report(['sticky'], [ok('sticky', 'login-read', { hitRate: 0.5 }), ok('sticky', 'kill-node', loss(0, 30))]);
    expect(tradeOffLine(summarize(changed).strategies[0]!)).toBe(
      '**sticky** keeps every session through a replica failure, but finds the session in 50.0% of reads; p99 read 12 ms; requests per replica up to 1.00 × the mean.',
    );
  });

  it('never calls a hit rate just short of 1 "every session"', () => {
    const line = tradeOffLine(summarize(report(['redis'], [ok('redis', 'login-read', { hitRate: 0.9996 })])).strategies[0]!);
    expect(line).toMatch(/^\*\*redis\*\* finds the session in >99\.9% of reads;/);
  });

  it('names the scenarios it could not measure, and says when nothing was', () => {
    const partial = report(
      ['postgres', 'mongo', 'none'],
      [
        ok('postgres', 'login-read'),
        { strategy: 'postgres', scenario: 'kill-store', status: 'error', reason: 'x' },
        { strategy: 'mongo', scenario: 'login-read', status: 'skipped', reason: 'no mongod' },
        { strategy: 'mongo', scenario: 'kill-node', status: 'skipped', reason: 'no mongod' },
        ok('none', 'cookie-swap'),
      ],
    );
    expect(summarize(partial).strategies.map(tradeOffLine)).toEqual([
      '**postgres** finds every session (100.0% hits); p99 read 12 ms; requests per replica up to 1.00 × the mean; not measured: kill-store (error).',
      '**mongo** was not measured: login-read (skipped), kill-node (skipped).',
      '**none**: none of the compared scenarios ran.',
    ]);
  });
});

describe('helpers', () => {
  it('share: one decimal always, so that a column never mixes 35% with 33.3%, and never 0.0% or 100.0% for what is not exactly that', () => {
    expect([0, 1, 1 / 3, 0.608, 0.35, 0.9996, 0.0004].map(share)).toEqual(['0.0%', '100.0%', '33.3%', '60.8%', '35.0%', '>99.9%', '<0.1%']);
  });

  it('joinClauses: one verb for consecutive clauses that share it; of three or more, a comma keeps a group with its own "and" apart', () => {
    expect(joinClauses([{ verb: 'loses', object: 'a' }])).toBe('loses a');
    expect(joinClauses([{ verb: 'finds', object: 'a' }, { verb: 'loses', object: 'b' }, { verb: 'loses', object: 'c' }])).toBe('finds a and loses b and c');
    expect(joinClauses([{ verb: 'x', object: 'a' }, { verb: 'y', object: 'b' }, { verb: 'z', object: 'c' }])).toBe('x a, y b and z c');
    expect(joinClauses([{ verb: 'x', object: 'a' }, { verb: 'y', object: 'b' }, { verb: 'y', object: 'c' }, { verb: 'z', object: 'd' }])).toBe('x a, y b and c, and z d');
  });

  it('hasComparedScenarios: only rows of the scenarios the comparison reads count', () => {
    expect(hasComparedScenarios(report(['none'], [ok('none', 'cookie-swap')]))).toBe(false);
    expect(hasComparedScenarios(report(['none'], [ok('none', 'imbalance')]))).toBe(true);
  });
});
