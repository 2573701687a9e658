import { describe, expect, it } from 'vitest';
import type { Report } from './model.js';
import type { Pricing } from './pricing.js';
import { renderers } from './renderers.js';

const latency = { count: 10, p50: 1.234, p95: 2.5, p99: 3.75, max: 4 };
const report: Report = {
  schemaVersion: 1,
  tool: { name: 'hactl', version: '9.9.9' },
  runId: 'abcd1234',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 12_345,
  settings: {
    strategies: ['none', 'redis'],
    strategyVariants: [
      { label: 'none', strategy: 'none', variant: 'default' },
      { label: 'redis', strategy: 'redis', variant: 'none' },
    ],
    scenarios: ['kill-node'],
    replicas: 3,
    users: 30,
    reads: 10,
    concurrency: 10,
    seed: 42,
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
  results: [
    {
      strategy: 'none',
      scenario: 'kill-node',
      status: 'ok',
      durationMs: 1_000,
      metrics: {
        requests: 400,
        reads: 360,
        hitRate: 1 / 3,
        missRate: 2 / 3,
        errors: 12,
        logins: 30,
        failedLogins: 0,
        sessionLoss: 0.3,
        usersWithSession: 30,
        usersLost: 9,
        recoveryMs: 312.4,
        recovered: true,
        detectionMs: 300,
        latencyMs: { login: latency, before: latency, after: latency },
        latencyByKind: { login: latency, read: latency },
        requestsPerReplica: { 'replica-1': 100 },
        replicasKnown: true,
        timeline: null,
        readLatencyDistribution: null,
        imbalance: 1.5,
        lostUpdates: { acknowledged: 240, kept: 200, lost: 40, rate: 40 / 240, usersAffected: 12 },
        expiry: null,
        storeFault: null,
        faults: [],
        phases: [],
      },
      findings: [{ id: 'forged-id-read', title: 'a forged session id reads nothing', passed: true, summary: '0/180 reads with a forged id returned user data', evidence: {} }],
    },
    { strategy: 'redis', scenario: 'kill-node', status: 'skipped', reason: 'redis-server was not found on PATH', fix: 'apt-get install -y redis-server' },
  ],
};

const pricing: Pricing = {
  region: 'eu-test-1',
  currency: 'USD',
  class: 'small',
  source: { title: 'Test prices', url: 'https://example.com/prices', retrieved: '2026-01-02', note: 'on-demand' },
  instances: { app: { type: 'small', hourly: 0.1, source: 'https://example.com/prices' } },
};

const SETTINGS_LINE =
  '_hactl 9.9.9 · run abcd1234 · local runtime · 3 replicas · 30 users · 10 reads each · concurrency 10 · seed 42 · hactl balancer (fast profile: round_robin, health check every 200 ms, unhealthy after 2 (a dead replica leaves rotation 0.2–0.7 s after it dies), deregistration delay 5 s) · 12.3 s_';
const RESULTS_AND_AFTER = [
  '### Results by scenario',
  '',
  '| strategy | scenario | hit rate | miss rate | errors | session loss | recovery | login p50/p95/p99 ms | read p50/p95/p99 ms | imbalance | figures |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  '| none | kill-node | 33.3% | 66.7% | 12 | 30.0% (9/30) | 312 ms | 1.23 / 2.50 / 3.75 | 1.23 / 2.50 / 3.75 | 1.50 | lost updates 40/240 (16.7%) |',
  '| redis | kill-node | skipped |  |  |  |  |  |  |  |  |',
  '',
  '### Findings',
  '',
  '| strategy | scenario | finding | result | evidence |',
  '| --- | --- | --- | --- | --- |',
  '| none | kill-node | a forged session id reads nothing | pass | 0/180 reads with a forged id returned user data |',
  '',
  '### Notes',
  '',
  '- redis: skipped: redis-server was not found on PATH (fix: apt-get install -y redis-server)',
  '',
];

describe('renderers', () => {
  it('markdown: the comparison first, then the full table with the same cells as the terminal, findings and why rows did not run', () => {
    expect(renderers.markdown(report)).toBe(
      [
        SETTINGS_LINE,
        '',
        '### Comparison',
        '',
        '| strategy | hit rate (login-read) | sessions lost, replica killed (kill-node) | sessions lost, store killed (kill-store) | lost updates (concurrent-writes) | read p50 / p99 ms (login-read) | busiest replica ÷ mean (login-read) |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        '| none | — | 30.0% (9/30) | n/a | — | — | — |',
        '| redis | — | skipped | — | — | — | — |',
        '',
        '- **none** loses 30.0% of sessions with a replica.',
        '- **redis** was not measured: kill-node (skipped).',
        '',
        ...RESULTS_AND_AFTER,
      ].join('\n'),
    );
  });

  it('markdown: with pricing, a cost column and the prices cited under the table', () => {
    const text = renderers.markdown(report, { color: false, pricing });
    expect(text).toContain(
      [
        '| strategy | hit rate (login-read) | sessions lost, replica killed (kill-node) | sessions lost, store killed (kill-store) | lost updates (concurrent-writes) | read p50 / p99 ms (login-read) | busiest replica ÷ mean (login-read) | cost per month, USD |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        '| none | — | 30.0% (9/30) | n/a | — | — | — | 219.00 |',
        '| redis | — | skipped | — | — | — | — | no price |',
        '',
        'Prices: Test prices, eu-test-1, class small, retrieved 2026-01-02 (https://example.com/prices); on-demand. ' +
          "Cost per month = 730 h × (3 × app + the strategy's store × its store nodes), instance hours only (no storage, I/O, data transfer or load balancer): " +
          'app small at 0.1 USD/h; redis: no price.',
        '',
        '- **none** loses 30.0% of sessions with a replica; 219.00 USD a month.',
        '- **redis** was not measured: kill-node (skipped).',
      ].join('\n'),
    );
    expect(text.endsWith(RESULTS_AND_AFTER.join('\n'))).toBe(true);
  });

  it('markdown: without a scenario the comparison reads, no comparison section', () => {
    const swapOnly: Report = { ...report, results: report.results.map((row) => ({ ...row, scenario: 'cookie-swap' })) };
    const text = renderers.markdown(swapOnly);
    expect(text).not.toContain('### Comparison');
    expect(text.startsWith(`${SETTINGS_LINE}\n\n### Results by scenario\n`)).toBe(true);
  });

  it('markdown: byte-for-byte the same for the same report, from a copy too, and the report is left as it was', () => {
    const before = JSON.stringify(report);
    const first = renderers.markdown(report, { color: false, pricing });
    const copy = JSON.parse(before) as Report;
    expect(renderers.markdown(copy, { color: false, pricing })).toBe(first);
    expect(renderers.markdown(report, { color: false, pricing })).toBe(first);
    expect(JSON.stringify(report)).toBe(before);
  });

  it('table: plain text without colour codes when colour is off, with the same cells', () => {
    const text = renderers.table(report, { color: false });
    expect(text).not.toMatch(/\u001b\[/);
    expect(text).toMatch(/│ none\s+│ kill-node\s+│ 33\.3%\s+│ 66\.7%\s+│ 12\s+│ 30\.0% \(9\/30\)\s+│ 312 ms/);
    expect(text).toContain('redis: skipped: redis-server was not found on PATH (fix: apt-get install -y redis-server)');
  });

  it('table: colours only when asked', () => {
    expect(renderers.table(report, { color: true })).toMatch(/\u001b\[/);
  });

  it('json: the report model as is, with schemaVersion 1', () => {
    expect(JSON.parse(renderers.json(report))).toEqual(report);
  });
});

describe('row warnings', () => {
  const ok = report.results[0]!;
  const warned: Report = {
    ...report,
    settings: { ...report.settings, scenarios: ['login-read'] },
    results: [
      {
        ...ok,
        scenario: 'login-read',
        metrics: { ...ok.metrics!, logins: 30, failedLogins: 3 },
        warnings: [{ id: 'failed-logins', message: '3/30 logins failed (first: answered 403: "no CSRF token")' }],
      },
      {
        ...ok,
        strategy: 'redis',
        scenario: 'login-read',
        findings: [],
        warnings: [{ id: 'fail-open', message: 'the balancer served every request from one replica\nwith health checks failing', invalid: true }],
      },
    ],
  };

  it('table: the hit-rate cell marked, the failed logins among the figures, and a line per warning under the tables', () => {
    const text = renderers.table(warned, { color: false });
    expect(text).toMatch(/│ none\s+│ login-read\s+│ 33\.3% ⚠\s+│/);
    // An invalid row's figures stay in the JSON as evidence; the table shows none of them.
    expect(text).toMatch(/│ redis\s+│ login-read\s+│ invalid ⚠\s+│\s+│/);
    expect(text).toMatch(/│ logins failed 3\/30; lost updates 40\/240 \(16\.7%\)\s*│/);
    expect(text.trimEnd().split('\n').slice(-2)).toEqual([
      'none × login-read: warning: 3/30 logins failed (first: answered 403: "no CSRF token")',
      'redis × login-read: invalid: the balancer served every request from one replica | with health checks failing',
    ]);
  });

  it('table: a warned row in yellow, an invalid one in red', () => {
    const text = renderers.table(warned, { color: true });
    expect(text).toContain('\u001b[33m33.3% ⚠\u001b[39m');
    expect(text).toContain('\u001b[31minvalid ⚠\u001b[39m');
  });

  it('markdown: the same marked cells, the warnings among the notes, and no comparison figure from an invalid row', () => {
    const text = renderers.markdown(warned);
    expect(text).toContain('| none | login-read | 33.3% ⚠ | 66.7% |');
    expect(text).toContain('| redis | login-read | invalid ⚠ |  |');
    expect(text).toContain('| none | 33.3% |');
    expect(text).toContain('| redis | invalid | — | — | — | invalid | invalid |');
    expect(text).toContain('- **redis** was not measured: login-read (invalid).');
    expect(text).toContain(
      [
        '- none × login-read: warning: 3/30 logins failed (first: answered 403: "no CSRF token")',
        '- redis × login-read: invalid: the balancer served every request from one replica | with health checks failing',
      ].join('\n'),
    );
  });

  it('an error row keeps its warning too', () => {
    const failed: Report = { ...report, results: [{ strategy: 'sticky', scenario: 'login-read', status: 'error', reason: '10/10 logins failed', warnings: [{ id: 'failed-logins', message: '10/10 logins failed (first: answered 403)', invalid: true }] }] };
    const text = renderers.table(failed, { color: false });
    expect(text).toMatch(/│ sticky\s+│ login-read\s+│ error ⚠\s+│/);
    expect(text).toContain('sticky × login-read: error: 10/10 logins failed\nsticky × login-read: invalid: 10/10 logins failed (first: answered 403)');
  });
});
