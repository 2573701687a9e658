import { z } from 'zod';
import { EnvironmentError } from '../../errors.js';
import { CONDITION_NAMES, conditions } from '../conditions.js';
import { interleave, runInOrder } from '../order.js';
import { count, definePhase, evaluateCount, readAs, type PhaseContext } from '../phase.js';

const MAX_WAIT_MS = 120_000;

export const read = definePhase({
  kind: 'read',
  description: 'each user reads its own session, a fixed number of times or until a condition holds',
  ownSessionReads: true,
  options: z
    .strictObject({
      reads: count.optional(),
      until: z.enum(CONDITION_NAMES as [string, ...string[]]).optional(),
      timeoutMs: z.number().int().positive().max(MAX_WAIT_MS).default(15_000),
    })
    .refine((options) => !(options.reads && options.until), { message: 'give either reads or until, not both' }),
  readsPerUser: (options, counts) => (options.until ? undefined : evaluateCount(options.reads ?? (() => counts.reads), counts)),
  async run(context, options) {
    if (options.until) {
      await readUntil(context, options.until as keyof typeof conditions, options.timeoutMs);
      return;
    }
    const perUser = evaluateCount(options.reads ?? ((counts) => counts.reads), context.counts);
    await readRounds(context, perUser);
  },
});

async function readRounds(context: PhaseContext, perUser: number): Promise<void> {
  const order = interleave(context.users.map((user) => user.index), perUser, context.rng.shuffle);
  const tasks = order.map((index) => {
    const user = context.users[index]!;
    return { user: index, run: async () => void (await readAs(context, index, user.jar, user.identity)) };
  });
  await runInOrder(tasks, context.concurrency, context.signal);
}

/** Users keep reading, a round at a time, while the condition is awaited; bounded by the timeout. */
async function readUntil(context: PhaseContext, name: keyof typeof conditions, timeoutMs: number): Promise<void> {
  let settled = false;
  let failure: unknown;
  const condition = conditions[name](context, timeoutMs).then(
    () => void (settled = true),
    (error: unknown) => {
      settled = true;
      failure = error;
    },
  );
  const deadline = context.driver.now() + timeoutMs;
  do {
    await readRounds(context, 1);
  } while (!settled && context.driver.now() < deadline);
  await condition;
  if (failure) throw failure;
  if (!settled) throw new EnvironmentError(`phase ${context.phase}: ${name} did not happen within ${timeoutMs} ms`);
}
