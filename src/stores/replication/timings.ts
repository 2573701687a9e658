import type { FailoverTimings } from '../store.js';

/** Promoting a replica and re-pointing the endpoint, beside the checks and the DNS wait: generous for a loaded machine. */
const FAILOVER_STEPS_MS = 5_000;

/**
 * The longest a failover may take under `timings`: the checks that declare the primary down (one
 * more for a check under way), the endpoint's switch, and the steps between. What waits on a
 * failover are bounded by.
 */
export function failoverBoundMs(timings: FailoverTimings): number {
  return timings.checkIntervalMs * (timings.unhealthyThreshold + 1) + timings.switchDelayMs + FAILOVER_STEPS_MS;
}

/** The timings in one phrase, for reports: `3 checks 200 ms apart, endpoint moved 3000 ms after the promotion`. */
export function describeTimings(timings: FailoverTimings): string {
  return `${timings.profile}: ${timings.unhealthyThreshold} checks ${timings.checkIntervalMs} ms apart${timings.switchDelayMs > 0 ? `, endpoint moved ${timings.switchDelayMs} ms after the promotion` : ''}`;
}
