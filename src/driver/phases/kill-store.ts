import { z } from 'zod';
import { EnvironmentError } from '../../errors.js';
import { sleep } from '../../time.js';
import { definePhase } from '../phase.js';

export const killStore = definePhase({
  kind: 'kill-store',
  description: 'kills the session store server (SIGKILL by default), keeps it down for a while, and starts it again on the same data',
  needsStore: true,
  options: z.strictObject({
    signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGINT']).default('SIGKILL'),
    downMs: z.number().int().min(0).max(300_000).default(0),
  }),
  async run(context, options) {
    const store = context.store;
    if (!store) throw new EnvironmentError(`phase ${context.phase}: this cluster has no session store to kill`);
    const at = context.driver.now();
    await store.kill(options.signal);
    await sleep(options.downMs, undefined, { signal: context.signal });
    // Whatever happens next, the fault is on record, so that the report says what was done.
    const fault = { kind: 'kill-store', target: store.name, at, detail: { signal: options.signal, downMs: options.downMs } };
    context.faults.push(fault);
    await store.restart();
    Object.assign(fault, { endAt: context.driver.now() });
  },
});
