import { describe, expect, it } from 'vitest';
import type { Report } from './model.js';
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

describe('renderers', () => {
  it('markdown: a GitHub table with the same cells as the terminal, findings and why rows did not run', () => {
    expect(renderers.markdown(report)).toBe(
      [
        '_hactl 9.9.9 · run abcd1234 · local runtime · 3 replicas · 30 users · 10 reads each · concurrency 10 · seed 42 · hactl balancer (fast profile: round_robin, health check every 200 ms, unhealthy after 2, deregistration delay 5 s) · 12.3 s_',
        '',
        '| strategy | scenario | hit rate | miss rate | errors | session loss | recovery | login p50/p95/p99 ms | read p50/p95/p99 ms | imbalance | figures |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        '| none | kill-node | 33.3% | 66.7% | 12 | 30.0% (9/30) | 312 ms | 1.23 / 2.50 / 3.75 | 1.23 / 2.50 / 3.75 | 1.50 | lost updates 40/240 (16.7%) |',
        '| redis | kill-node | skipped |  |  |  |  |  |  |  |  |',
        '',
        '| strategy | finding | result | evidence |',
        '| --- | --- | --- | --- |',
        '| none | a forged session id reads nothing | pass | 0/180 reads with a forged id returned user data |',
        '',
        '- redis: skipped: redis-server was not found on PATH (fix: apt-get install -y redis-server)',
        '',
      ].join('\n'),
    );
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
