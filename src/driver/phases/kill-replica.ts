import { z } from 'zod';
import { definePhase } from '../phase.js';
import type { CommandEvidence, FaultBase } from '../records.js';
import { killReplicaByCommand } from './command-faults.js';

/**
 * A replica killed: by hactl (dated by the kill, taken out by the balancer's health checks), or by
 * the user's command (dated and verified from what users saw, with its CommandEvidence).
 */
export interface KillReplicaFault extends FaultBase, CommandEvidence {
  kind: 'kill-replica';
  /** When the balancer took the target out of rotation, if it did. */
  detectedAt?: number;
  /**
   * answersAs: the name the deployment's answers gave the killed replica, where not its own;
   * detection: why when it left rotation could not be dated.
   */
  detail?: { answersAs?: string; detection?: string };
}

export const killReplica = definePhase({
  kind: 'kill-replica',
  description: 'kills one replica process (SIGKILL by default); users are not told',
  controls: ['kill-replica'],
  readsDuringFault: true,
  options: z.strictObject({
    replica: z.union([z.number().int().min(1), z.literal('random')]).default(1),
    signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGINT']).default('SIGKILL'),
  }),
  async run(context, options) {
    const ids = context.cluster.replicaIds;
    const ordinal = options.replica === 'random' ? context.rng.int(ids.length) + 1 : options.replica;
    const target = ids[ordinal - 1];
    if (target === undefined) throw new Error(`phase ${context.phase}: replica ${ordinal} does not exist (the cluster has ${ids.length})`);
    // The user's command kills it (--runtime external): timed and verified from what users see.
    if (context.cluster.commandFaults) return killReplicaByCommand(context, context.cluster.commandFaults, target, options.signal);
    const { at } = await context.cluster.killReplica(target, options.signal);
    context.faults.push({ kind: 'kill-replica', target, at: context.fromEpoch(at) } satisfies KillReplicaFault);
  },
});
