import type { HealthDirection } from '../balancer/settings.js';
import { EnvironmentError } from '../errors.js';
import { pollUntil } from '../time.js';
import type { PhaseContext } from './phase.js';

/**
 * Conditions a phase can wait for while users keep going (`read` with `until:`). Each resolves
 * when the condition holds and rejects when it has not held within the timeout.
 */
export const conditions = {
  /** The balancer has taken every replica killed so far out of rotation. */
  'fault-detected': async (context: PhaseContext, timeoutMs: number) => {
    const pending = context.faults.filter((fault) => fault.kind === 'kill-replica' && fault.detectedAt === undefined);
    if (pending.length === 0) throw new EnvironmentError(`phase ${context.phase} waits for a fault to be detected, but no replica was killed before it`);
    await Promise.all(
      pending.map(async (fault) => {
        const change = await context.cluster.waitForReplicaHealth(fault.target, false, timeoutMs, context.signal);
        fault.detectedAt = Math.max(fault.at, context.driver.fromEpoch(change.at));
      }),
    );
  },
  /**
   * As many answers in a row as there are users, and at least 2 x replicas (so that round robin
   * has asked every replica twice), none an error: the store is back and the replicas have
   * reconnected to it (or never needed to).
   */
  'no-errors': async (context: PhaseContext, timeoutMs: number) => {
    const samples = context.driver.samples;
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

export type ConditionName = keyof typeof conditions;
export const CONDITION_NAMES = Object.keys(conditions) as ConditionName[];

/** The conditions that hold only once the balancer's health checks have acted, and which way. */
export const BALANCER_CONDITIONS: Partial<Record<ConditionName, HealthDirection>> = { 'fault-detected': 'unhealthy' };
