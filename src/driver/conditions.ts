import type { HealthDirection } from '../balancer/settings.js';
import { EnvironmentError } from '../platform/errors.js';
import { pollUntil } from '../platform/time.js';
import type { PhaseClient } from './phase.js';
import { answeringName, cleanRun, detectionMoment } from './fault-effect.js';
import { isFault } from './records.js';
import type { KillReplicaFault } from './phases/kill-replica.js';

/**
 * Conditions a phase can wait for while users keep going (`read` with `until:`). Each resolves
 * when the condition holds and rejects when it has not held within the timeout.
 */
export const conditions = {
  /** The balancer has taken every replica killed so far out of rotation. */
  'fault-detected': async (context: PhaseClient, timeoutMs: number) => {
    const pending = context.faults.filter(isFault('kill-replica')).filter((fault) => fault.detectedAt === undefined && !waited.has(fault));
    if (pending.length === 0) throw new EnvironmentError(`phase ${context.phase} waits for a fault to be detected, but no replica was killed before it`);
    await Promise.all(
      pending.map(async (fault) => {
        waited.add(fault);
        if (fault.commands !== undefined) return commandFaultDetected(context, fault, timeoutMs);
        const change = await context.cluster.waitForReplicaHealth(fault.target, false, timeoutMs, context.signal);
        fault.detectedAt = Math.max(fault.at, context.fromEpoch(change.at));
      }),
    );
  },
  /**
   * As many answers in a row as there are users, and at least 2 x replicas (so that round robin
   * has asked every replica twice), none an error: the store is back and the replicas have
   * reconnected to it (or never needed to).
   */
  'no-errors': async (context: PhaseClient, timeoutMs: number) => {
    const samples = context.samples;
    const from = samples.length;
    const wanted = Math.max(context.users.length, 2 * context.cluster.replicaIds.length);
    // The streak last seen, and whether an error ended it: a streak cut short by the clock alone
    // (a low --rate) is not "still failing".
    let run = 0;
    let failing = false;
    await pollUntil(
      () => {
        run = 0;
        failing = false;
        for (let i = samples.length - 1; i >= from && run < wanted; i--) {
          if (samples[i]!.phase !== context.phase) continue;
          if (samples[i]!.outcome === 'error') {
            failing = true;
            return undefined;
          }
          run++;
        }
        return run >= wanted || undefined;
      },
      {
        timeoutMs,
        intervalMs: 50,
        signal: context.signal,
        onTimeout: () =>
          new EnvironmentError(
            failing
              ? `phase ${context.phase}: requests were still failing after ${timeoutMs} ms`
              : `phase ${context.phase}: only ${run} of the ${wanted} answers in a row without an error it waits for came within ${timeoutMs} ms, none of them failing (is --rate too low for this wait?)`,
          ),
      },
    );
  },
} as const;

/** Faults a fault-detected wait has dealt with, whether or not it could date their detection. */
const waited = new WeakSet<KillReplicaFault>();

/**
 * A replica the user's command killed. Not observed: nothing to wait for. With identity known,
 * detection is seen in the answers: the wait ends once 2 x replicas requests in a row were
 * answered by other replicas without an error, and detectedAt is when the replica got its last
 * traffic. Without identity the wait ends on the health path's streak, and detectedAt stays
 * unknown: a probe streak through a retrying proxy says nothing of when the replica left.
 */
async function commandFaultDetected(context: PhaseClient, fault: KillReplicaFault, timeoutMs: number): Promise<void> {
  if (fault.observed === false) return;
  const command = fault.commands![0]!;
  const samples = context.samples;
  const name = answeringName(fault, samples);
  if (name === undefined) {
    await context.cluster.waitForReplicaHealth(fault.target, false, timeoutMs, context.signal);
    return;
  }
  const wanted = 2 * context.cluster.replicaIds.length;
  await pollUntil(() => cleanRun(samples, name, command.endAt, wanted) || undefined, {
    timeoutMs,
    intervalMs: 50,
    signal: context.signal,
    onTimeout: () => new EnvironmentError(`phase ${context.phase}: within ${timeoutMs} ms of the kill, ${wanted} requests in a row were never all answered by replicas other than ${name}`),
  });
  const detected = detectionMoment(samples, name, fault.at, context.now());
  if (detected !== undefined) fault.detectedAt = detected;
  else fault.detail = { ...fault.detail, detection: 'not seen: no request failed after the fault (a proxy that retries hides when it took the replica out)' };
}

export type ConditionName = keyof typeof conditions;
export const CONDITION_NAMES = Object.keys(conditions) as ConditionName[];

/** The conditions that hold only once the balancer's health checks have acted, and which way. */
export const BALANCER_CONDITIONS: Partial<Record<ConditionName, HealthDirection>> = { 'fault-detected': 'unhealthy' };
