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
 * A target's health when the balancer starts or a target is registered again. hactl registers a
 * replica only after it answered its readiness probe, so by default targets start healthy;
 * `initial` is ALB's state for targets nobody has vouched for (a new or re-registered one): out
 * of rotation until `healthyThreshold` checks pass, unless no target is healthy (fail-open).
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

/**
 * ALB's success codes (the target group's Matcher, HttpCode): "You can specify values between
 * 200 and 499 ... multiple values (for example, "200,202") or a range of values (for example,
 * "200-299")"; the default is 200 (Elastic Load Balancing API reference, Matcher). hactl also
 * accepts ranges inside a list ("200,300-399").
 */
const MIN_MATCHER_CODE = 200;
const MAX_MATCHER_CODE = 499;

type CodeRange = readonly [low: number, high: number];

function parseMatcher(matcher: string): CodeRange[] | string {
  const ranges: CodeRange[] = [];
  for (const part of matcher.split(',')) {
    const match = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
    if (!match) return `health check matcher ${JSON.stringify(matcher)} is not ALB syntax: use 200, 200,302 or 200-299`;
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low < MIN_MATCHER_CODE || high > MAX_MATCHER_CODE) return `health check matcher ${JSON.stringify(matcher)} names codes outside ${MIN_MATCHER_CODE}-${MAX_MATCHER_CODE}, which ALB does not accept`;
    if (low > high) return `health check matcher ${JSON.stringify(matcher)} has a range whose start is above its end`;
    ranges.push([low, high]);
  }
  return ranges;
}

/** The one-line problem with a matcher string, or undefined when ALB would accept it. */
export function validateMatcher(matcher: string): string | undefined {
  const parsed = parseMatcher(matcher);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** Whether a health check's status counts as a pass; an invalid matcher matches nothing. */
export function matchesStatus(status: number, matcher: string): boolean {
  const parsed = parseMatcher(matcher);
  return typeof parsed !== 'string' && parsed.some(([low, high]) => status >= low && status <= high);
}
