import { z } from 'zod';
import { EnvironmentError, UsageError } from '../../platform/errors.js';
import { classifyAction, MAX_BURST } from '../driver.js';
import { runInOrder } from '../order.js';
import { count, definePhase, evaluateCount, type PhaseClient } from '../phase.js';
import type { VirtualUser } from '../users.js';

/**
 * Each user fires `parallel` increments at once (and as many reads, with `withReads`), which the
 * balancer spreads over the replicas; then reads its counter back. Lost updates are the
 * increments the app acknowledged that the counter does not show: read-modify-write races on
 * the session, which a shared store does not prevent and express-session's `resave` worsens.
 */
export const concurrentIncrements = definePhase({
  kind: 'concurrent-increments',
  description: "each user sends K parallel increments of its session's counter, then reads the counter back",
  options: z.strictObject({
    parallel: count,
    withReads: z.boolean().default(true),
  }),
  needsRequests: ['increment'],
  async run(context, options) {
    const { profile } = context;
    if (!profile.increment || !profile.counter) throw new EnvironmentError(`phase ${context.phase}: the app profile "${profile.name}" has no increment and counter requests`);
    const parallel = Math.max(1, evaluateCount(options.parallel, context.counts));
    const burst = parallel * (options.withReads ? 2 : 1);
    if (burst > MAX_BURST) throw new UsageError(`phase ${context.phase}: ${burst} requests at once is more than ${MAX_BURST}; lower parallel`);
    const order = context.rng.shuffle(context.users.map((user) => user.index));
    const acknowledged = new Map<number, number>();
    // One user's burst at a time: its K requests are the concurrency being measured.
    await runInOrder(
      order.map((index) => ({ user: index, run: async () => void acknowledged.set(index, await fire(context, context.users[index]!, parallel, options.withReads)) })),
      1,
      context.signal,
    );
    for (const index of order) context.counters.push({ user: index, acknowledged: acknowledged.get(index) ?? 0, final: await readBack(context, context.users[index]!) });
  },
});

/** Sends the burst; resolves to how many increments the app acknowledged with a 2xx. */
async function fire(context: PhaseClient, user: VirtualUser, parallel: number, withReads: boolean): Promise<number> {
  const increments = Array.from({ length: parallel }, () => context.send(user.jar, context.profile.increment!, user.index, classifyAction));
  const reads = withReads ? Array.from({ length: parallel }, () => context.send(user.jar, context.profile.read, user.index, classifyAction)) : [];
  const [answers] = await Promise.all([Promise.all(increments), Promise.all(reads)]);
  return answers.filter((exchange) => exchange.status >= 200 && exchange.status < 300).length;
}

/** The highest value any replica reports in 2 x R reads: the most generous reading of "final". */
async function readBack(context: PhaseClient, user: VirtualUser): Promise<number | null> {
  let final: number | null = null;
  for (let i = 0; i < 2 * context.cluster.replicaIds.length; i++) {
    const exchange = await context.send(user.jar, context.profile.counter!, user.index, classifyAction, { as: { phase: `${context.phase}:read-back`, kind: 'read-back' } });
    const value = context.profile.counterValue!(exchange.status, exchange.body);
    if (value !== undefined) final = Math.max(final ?? 0, value);
  }
  return final;
}
