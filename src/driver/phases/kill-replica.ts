import { z } from 'zod';
import { definePhase } from '../phase.js';
import { killReplicaByCommand } from './command-faults.js';

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
    context.faults.push({ kind: 'kill-replica', target, at: context.driver.fromEpoch(at) });
  },
});
