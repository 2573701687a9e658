import { z } from 'zod';
import { EnvironmentError, errorMessage, StoreLostError } from '../../platform/errors.js';
import { chooseNode, choiceIn, describeChoice, NODE_CHOICE_FIELDS, nodeTarget, ONE_CHOICE } from '../../stores/node-choice.js';
import { sleep } from '../../platform/time.js';
import { definePhase } from '../phase.js';
import type { CommandEvidence, FaultBase } from '../records.js';
import { killStoreByCommand } from './command-faults.js';

/** The session store killed, kept down for `downMs`, and started again (endAt: when it was back). */
export interface KillStoreFault extends FaultBase, CommandEvidence {
  kind: 'kill-store';
  detail: { signal: NodeJS.Signals; downMs: number };
  /**
   * After a store fault of the user's command: the end of the last request that failed (an error,
   * or a miss of a user whose reads hit before) before the store was seen back. An app that fails
   * closed answers 401s, not errors, while its store is down, so recovery is never shorter than this.
   */
  backAt?: number;
}

export const killStore = definePhase({
  kind: 'kill-store',
  description: 'kills a node of the session store (the primary unless node: or role: names another; SIGKILL by default), keeps it down for a while, and starts it again on the same data',
  needsStore: true,
  storeNode: (options) => choiceIn(options),
  controls: ['kill-store'],
  readsDuringFault: true,
  options: z
    .strictObject({
      ...NODE_CHOICE_FIELDS,
      signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGINT']).default('SIGKILL'),
      downMs: z.number().int().min(0).max(300_000).default(0),
    })
    .refine(...ONE_CHOICE),
  async run(context, options) {
    const store = context.store;
    if (!store) throw new EnvironmentError(`phase ${context.phase}: this cluster has no session store to kill`);
    // Checked at load against the store's planned nodes; a role is looked up now, as it stands.
    const node = chooseNode(store.name, store.nodes, choiceIn(options));
    if (typeof node === 'string') throw new EnvironmentError(`phase ${context.phase}: ${node}`);
    // The user's commands kill it and the platform may restart it: wait until it is back, then verify.
    if (node.commandFaults) return killStoreByCommand(context, store, node.commandFaults, options);
    const controls = node.controls;
    if (!controls) throw new EnvironmentError(`phase ${context.phase}: hactl cannot kill ${describeChoice(choiceIn(options))} of ${store.description}`);
    const fault: KillStoreFault = { kind: 'kill-store', target: nodeTarget(store, node), at: context.now(), detail: { signal: options.signal, downMs: options.downMs } };
    await controls.kill(options.signal);
    // On record from the kill on, so that the report says what was done whatever follows.
    context.faults.push(fault);
    try {
      await sleep(options.downMs, undefined, { signal: context.signal });
    } finally {
      // The store is shared by the strategy's later scenarios: start it again, unless the run is
      // being torn down (which stops it anyway).
      if (!context.signal.aborted) {
        await controls.start().catch((error: unknown) => {
          throw new StoreLostError(`${nodeTarget(store, node)} did not come back after it was killed: ${errorMessage(error)}`);
        });
      }
    }
    fault.endAt = context.now();
  },
});
