import type { HealthCheckSettings } from './settings.js';

/**
 * One target's health as ALB tracks it: a target changes state only after `unhealthyThreshold`
 * consecutive failed checks (or `healthyThreshold` consecutive passes); a single blip does nothing.
 */
export interface TargetHealth {
  healthy: boolean;
  consecutivePasses: number;
  consecutiveFailures: number;
}

/**
 * hactl registers a replica only after it answered its readiness probe, so targets start healthy
 * (ALB would hold them in `initial` until `healthyThreshold` passes; that wait proves nothing here).
 */
export function initialHealth(): TargetHealth {
  return { healthy: true, consecutivePasses: 0, consecutiveFailures: 0 };
}

export function recordCheck(
  health: TargetHealth,
  passed: boolean,
  thresholds: Pick<HealthCheckSettings, 'healthyThreshold' | 'unhealthyThreshold'>,
): TargetHealth {
  if (passed) {
    const consecutivePasses = health.consecutivePasses + 1;
    const healthy = health.healthy || consecutivePasses >= thresholds.healthyThreshold;
    return { healthy, consecutivePasses, consecutiveFailures: 0 };
  }
  const consecutiveFailures = health.consecutiveFailures + 1;
  const healthy = health.healthy && consecutiveFailures < thresholds.unhealthyThreshold;
  return { healthy, consecutivePasses: 0, consecutiveFailures };
}
