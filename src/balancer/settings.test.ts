import { describe, expect, it } from 'vitest';
import { ALB_HEALTH_CHECK, detectionBoundMs, detectionWindowMs, FAST_HEALTH_CHECK, type HealthCheckSettings } from './settings.js';

describe('how long the balancer takes to change its mind about a target', () => {
  it("ALB's defaults: a dead replica leaves rotation 30 to 70 s after it dies, a restarted one returns within 175 s", () => {
    // Two failed checks 30 s apart; each may wait out its 5 s timeout when the host has vanished.
    expect(detectionWindowMs(ALB_HEALTH_CHECK, 'unhealthy')).toEqual({ earliestMs: 30_000, latestMs: 70_000 });
    expect(detectionWindowMs(ALB_HEALTH_CHECK, 'healthy')).toEqual({ earliestMs: 120_000, latestMs: 175_000 });
  });

  it('the fast profile: well under a second', () => {
    expect(detectionWindowMs(FAST_HEALTH_CHECK, 'unhealthy')).toEqual({ earliestMs: 200, latestMs: 700 });
  });

  it('bounds waits by the window, one more interval and slack', () => {
    expect(detectionBoundMs(ALB_HEALTH_CHECK, 'unhealthy')).toBe(110_000);
    expect(detectionBoundMs(ALB_HEALTH_CHECK, 'healthy')).toBe(215_000);
    expect(detectionBoundMs(FAST_HEALTH_CHECK, 'unhealthy')).toBe(10_900);
    expect(detectionBoundMs(FAST_HEALTH_CHECK, 'healthy')).toBe(10_900);
  });

  it.each([
    ['fast', FAST_HEALTH_CHECK],
    ['alb', ALB_HEALTH_CHECK],
    ['slow checks, high thresholds', { ...ALB_HEALTH_CHECK, intervalMs: 300_000, timeoutMs: 120_000, healthyThreshold: 10, unhealthyThreshold: 10 }],
  ] as [string, HealthCheckSettings][])('%s: the bound is never inside the window, and grows with every setting', (_name, healthCheck) => {
    for (const direction of ['unhealthy', 'healthy'] as const) {
      const bound = detectionBoundMs(healthCheck, direction);
      expect(bound).toBeGreaterThan(detectionWindowMs(healthCheck, direction).latestMs + healthCheck.intervalMs);
      expect(detectionBoundMs({ ...healthCheck, intervalMs: healthCheck.intervalMs + 1_000 }, direction)).toBeGreaterThan(bound);
      expect(detectionBoundMs({ ...healthCheck, timeoutMs: healthCheck.timeoutMs + 1_000 }, direction)).toBeGreaterThan(bound);
    }
    expect(detectionBoundMs({ ...healthCheck, unhealthyThreshold: healthCheck.unhealthyThreshold + 1 }, 'unhealthy')).toBeGreaterThan(detectionBoundMs(healthCheck, 'unhealthy'));
    expect(detectionBoundMs({ ...healthCheck, healthyThreshold: healthCheck.healthyThreshold + 1 }, 'healthy')).toBeGreaterThan(detectionBoundMs(healthCheck, 'healthy'));
  });
});
