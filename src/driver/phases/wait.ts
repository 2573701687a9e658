import { z } from 'zod';
import { sleep } from '../../platform/time.js';
import { definePhase } from '../phase.js';

export const wait = definePhase({
  kind: 'wait',
  description: 'users stay idle for a while',
  options: z.strictObject({ ms: z.number().int().min(0).max(600_000) }),
  async run(context, options) {
    await sleep(options.ms, undefined, { signal: context.signal });
  },
});
