import { setTimeout as sleep } from 'node:timers/promises';
import { httpOrigin, type BalancerTarget, type HealthCheckSettings } from '../balancer/settings.js';
import { matchesStatus } from '../balancer/health.js';
import { answerOf, describeAnswer, type HttpAnswer } from './http-probe.js';

/** One target's answer to the balancer's own health check, made directly. */
export interface TargetProbe extends HttpAnswer {
  target: string;
  passed: boolean;
}

/**
 * Each target asked, directly, what the balancer's health check asks it (path, timeout,
 * matcher). The balancer's own view takes a threshold's worth of intervals to form; this takes
 * one round trip, so a check that can never pass is seen before any figure is taken.
 */
export async function probeHealthChecks(targets: readonly BalancerTarget[], check: HealthCheckSettings): Promise<TargetProbe[]> {
  return Promise.all(
    targets.map(async (target): Promise<TargetProbe> => {
      const answer = await answerOf(`${httpOrigin(target.host, target.port)}${check.path}`, check.timeoutMs);
      return { target: target.id, ...answer, passed: answer.status !== undefined && matchesStatus(answer.status, check.matcher) };
    }),
  );
}

/** `GET /health answered 404 "Not Found"` or `GET /health: connect ECONNREFUSED`, for messages. */
export function describeProbe(probe: TargetProbe, path: string): string {
  return probe.status === undefined ? `GET ${path}: ${probe.excerpt}` : `GET ${path} ${describeAnswer(probe)}`;
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
