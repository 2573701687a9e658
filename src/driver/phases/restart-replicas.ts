import { z } from 'zod';
import { detectionBoundMs } from '../../balancer/settings.js';
import { definePhase, type PhaseClient } from '../phase.js';
import type { FaultBase } from '../records.js';
import { readWhile } from './read.js';

/** One replica of a rolling restart: drained, stopped, started, and back in rotation at endAt. */
export interface RestartReplicaFault extends FaultBase {
  kind: 'restart-replica';
  /**
   * How long its drain took, the requests the drain abandoned at the deregistration delay, and
   * when (after `at`) it was registered again: from then on the balancer may put it back before
   * hactl hears of it.
   */
  detail: { drainedMs: number; abandoned: number; registeredMs?: number };
}

/**
 * A rolling restart, as a deployment does it behind ALB: each replica in turn is deregistered
 * (it drains), stopped gracefully, started again, registered, and waited for until health checks
 * put it back in rotation; users keep reading all along.
 */
export const restartReplicas = definePhase({
  kind: 'restart-replicas',
  description: 'drains, gracefully stops and restarts replicas one at a time while users keep reading',
  controls: ['deregister-replica', 'kill-replica', 'start-replica'],
  ownSessionReads: true,
  options: z.strictObject({
    replicas: z.union([z.literal('all'), z.array(z.number().int().min(1)).min(1)]).default('all'),
    signal: z.enum(['SIGTERM', 'SIGINT', 'SIGKILL']).default('SIGTERM'),
  }),
  // It waits on the balancer to put each replica back, always by the profile's bound: a scenario
  // gives it no timeoutMs that could be too short.
  balancerWait: () => ({ direction: 'healthy' }),
  async run(context, options) {
    const ids = context.cluster.replicaIds;
    const ordinals = options.replicas === 'all' ? ids.map((_, i) => i + 1) : options.replicas;
    const targets = ordinals.map((ordinal) => {
      const id = ids[ordinal - 1];
      if (id === undefined) throw new Error(`phase ${context.phase}: replica ${ordinal} does not exist (the cluster has ${ids.length})`);
      return id;
    });
    await readWhile(context, (signal) => restartInTurn(context, targets, options.signal, signal), restartBoundMs(context.balancer, targets.length, context.cluster.replicaStartBoundMs));
  },
});

/** Stopping and registering a replica, beside its drain, its start and its health checks: generous for a slow engine. */
const RESTART_STEPS_MS = 30_000;

/**
 * How long restarting `replicas` in turn may take: per replica, its drain (the deregistration
 * delay at most), its stop and registration, its start (the cluster's readiness bound: a user's
 * app may take its --startup-timeout), and the balancer's bound for putting it back. At ALB's
 * defaults that is over nine minutes a replica; the demo app's restart takes about two and a half
 * (five passing checks 30 s apart).
 */
export function restartBoundMs(balancer: PhaseClient['balancer'], replicas: number, startBoundMs = 0): number {
  return replicas * (balancer.deregistrationDelayMs + RESTART_STEPS_MS + startBoundMs + detectionBoundMs(balancer.healthCheck, 'healthy'));
}

async function restartInTurn(context: PhaseClient, targets: readonly string[], signal: NodeJS.Signals, abort: AbortSignal): Promise<void> {
  const { cluster } = context;
  for (const target of targets) {
    abort.throwIfAborted();
    const at = context.now();
    const drain = await cluster.deregisterReplica(target);
    const fault: RestartReplicaFault = { kind: 'restart-replica', target, at, detail: { drainedMs: Math.round(drain.drainedMs), abandoned: drain.abandoned } };
    context.faults.push(fault);
    await cluster.killReplica(target, signal);
    await cluster.startReplica(target);
    fault.detail.registeredMs = Math.round(context.now() - at);
    await cluster.registerReplica(target);
    const change = await cluster.waitForReplicaHealth(target, true, detectionBoundMs(context.balancer.healthCheck, 'healthy'), abort);
    fault.endAt = Math.max(at, context.fromEpoch(change.at));
  }
}
