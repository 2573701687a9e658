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
 * A target's health when the balancer starts. hactl registers a replica only after it answered
 * its readiness probe, so by default targets start healthy; `initial` is ALB's state for targets
 * nobody has vouched for: out of rotation until `healthyThreshold` checks pass.
 */
export function initialHealth(state: 'healthy' | 'initial' = 'healthy'): TargetHealth {
  return { healthy: state === 'healthy', consecutivePasses: 0, consecutiveFailures: 0 };
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
