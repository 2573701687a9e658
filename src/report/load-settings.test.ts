import { describe, expect, it } from 'vitest';
import { settingsLine } from './cells.js';
import type { Report } from './model.js';

const report = (settings: Partial<Report['settings']>): Report =>
  ({
    schemaVersion: 1,
    tool: { name: 'hactl', version: '9.9.9' },
    runId: 'abcd1234',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1_000,
    settings: {
      strategies: ['redis'],
      scenarios: ['login-read'],
      replicas: 2,
      users: 30,
      reads: 10,
      concurrency: 10,
      seed: 1,
      runtime: 'local',
      requestTimeoutMs: 10_000,
      balancer: { kind: 'hactl', profile: 'fast', algorithm: 'round_robin', healthCheck: { path: '/health', intervalMs: 200, timeoutMs: 150, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200-299' }, stickiness: { cookieName: '', durationSeconds: 0 }, upstreamTimeoutMs: 5_000, connectTimeoutMs: 1_000, deregistrationDelayMs: 5_000 },
      ...settings,
    },
    results: [],
  }) as Report;

describe('the settings line states the load a run held itself to', () => {
  it('says the rate and that no warm-up ran', () => {
    expect(settingsLine(report({ rate: 200, warmUp: false }))).toContain('concurrency 10 · at most 200 requests/s · no warm-up · seed 1');
  });

  it('says nothing of either without a rate and with warm-up (or in a report older than the flags)', () => {
    expect(settingsLine(report({ warmUp: true }))).toContain('concurrency 10 · seed 1');
    expect(settingsLine(report({}))).toContain('concurrency 10 · seed 1');
  });
});
