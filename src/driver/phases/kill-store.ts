import { z } from 'zod';
import { EnvironmentError, errorMessage, StoreLostError } from '../../errors.js';
import { sleep } from '../../time.js';
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
  description: 'kills the session store server (SIGKILL by default), keeps it down for a while, and starts it again on the same data',
  needsStore: true,
  controls: ['kill-store'],
  readsDuringFault: true,
  options: z.strictObject({
    signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGINT']).default('SIGKILL'),
    downMs: z.number().int().min(0).max(300_000).default(0),
  }),
  async run(context, options) {
    const store = context.store;
    if (!store) throw new EnvironmentError(`phase ${context.phase}: this cluster has no session store to kill`);
    // The user's commands kill it and the platform may restart it: wait until it is back, then verify.
    if (store.commandFaults) return killStoreByCommand(context, store, store.commandFaults, options);
    const fault: KillStoreFault = { kind: 'kill-store', target: store.name, at: context.now(), detail: { signal: options.signal, downMs: options.downMs } };
    await store.kill(options.signal);
    // On record from the kill on, so that the report says what was done whatever follows.
    context.faults.push(fault);
    try {
      await sleep(options.downMs, undefined, { signal: context.signal });
    } finally {
      // The store is shared by the strategy's later scenarios: start it again, unless the run is
      // being torn down (which stops it anyway).
      if (!context.signal.aborted) {
        await store.restart().catch((error: unknown) => {
          throw new StoreLostError(`${store.name} did not come back after it was killed: ${errorMessage(error)}`);
        });
      }
    }
    fault.endAt = context.now();
  },
});
