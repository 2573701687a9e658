import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { httpOrigin, type BalancerTarget, type HealthCheckSettings } from '../balancer/settings.js';
import { matchesStatus } from '../balancer/health.js';

/** One target's answer to the balancer's own health check, made directly. */
export interface TargetProbe {
  target: string;
  /** The HTTP status; absent when no answer came. */
  status?: number;
  /** The start of the answer's body, or why no answer came. */
  excerpt: string;
  passed: boolean;
}

const EXCERPT_CHARS = 80;

/**
 * Each target asked, directly, what the balancer's health check asks it (path, timeout,
 * matcher). The balancer's own view takes a threshold's worth of intervals to form; this takes
 * one round trip, so a check that can never pass is seen before any figure is taken.
 */
export async function probeHealthChecks(targets: readonly BalancerTarget[], check: HealthCheckSettings): Promise<TargetProbe[]> {
  return Promise.all(
    targets.map(async (target): Promise<TargetProbe> => {
      try {
        const response = await request(`${httpOrigin(target.host, target.port)}${check.path}`, { signal: AbortSignal.timeout(check.timeoutMs) });
        const body = await response.body.text();
        return { target: target.id, status: response.statusCode, excerpt: excerpt(body), passed: matchesStatus(response.statusCode, check.matcher) };
      } catch (error) {
        return { target: target.id, excerpt: error instanceof Error ? error.message : String(error), passed: false };
      }
    }),
  );
}

function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** `GET /health answered 404 "Not Found"` or `GET /health: connect ECONNREFUSED`, for messages. */
export function describeProbe(probe: TargetProbe, path: string): string {
  return probe.status === undefined ? `GET ${path}: ${probe.excerpt}` : `GET ${path} answered ${probe.status}${probe.excerpt ? ` ${JSON.stringify(probe.excerpt)}` : ''}`;
}

/**
 * Whether the targets pass the balancer's health check, judged as the balancer judges it: all
 * of them failing means `unhealthyThreshold` rounds in a row, a check interval apart, so that a
 * single slow answer on a loaded machine (or a JVM's first) is not taken for a failing check.
 * A round in which any target passes ends it. Bounded by the threshold's rounds of intervals
 * and timeouts. `probes` is the last round's answers.
 */
export async function healthCheckVerdict(targets: readonly BalancerTarget[], check: HealthCheckSettings, signal: AbortSignal): Promise<{ passing: boolean; probes: TargetProbe[] }> {
  let probes: TargetProbe[] = [];
  for (let round = 0; round < Math.max(1, check.unhealthyThreshold); round++) {
    if (round > 0) await sleep(check.intervalMs, undefined, { signal });
    probes = await probeHealthChecks(targets, check);
    if (probes.some((probe) => probe.passed)) return { passing: true, probes };
  }
  return { passing: false, probes };
}
