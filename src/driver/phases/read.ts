import { z } from 'zod';
import { EnvironmentError } from '../../platform/errors.js';
import { settleWithin } from '../../platform/time.js';
import { detectionBoundMs } from '../../balancer/settings.js';
import { BALANCER_CONDITIONS, CONDITION_NAMES, conditions, type ConditionName } from '../conditions.js';
import { interleave, runInOrder } from '../order.js';
import { count, definePhase, evaluateCount, type PhaseClient } from '../phase.js';

const MAX_WAIT_MS = 900_000;

export const read = definePhase({
  kind: 'read',
  description: 'each user reads its own session, a fixed number of times or until a condition holds',
  ownSessionReads: true,
  options: z
    .strictObject({
      reads: count.optional(),
      until: z.enum(CONDITION_NAMES as [string, ...string[]]).optional(),
      /**
       * Default: the balancer's detection bound at its profile's timing. A wait on the balancer
       * (fault-detected) may not be shorter than that bound: the loader refuses it.
       */
      timeoutMs: z.number().int().positive().max(MAX_WAIT_MS).optional(),
      /** Send the session cookie even after the browser would have dropped it (expiry checks). */
      expiredCookies: z.boolean().default(false),
      /** A few users read `factor` times as often: long-lived sessions among short ones (imbalance). */
      heavy: z.strictObject({ users: count, factor: z.number().int().min(1).max(1_000) }).optional(),
    })
    .refine((options) => !(options.reads && options.until), { message: 'give either reads or until, not both' }),
  balancerWait: (options) => {
    const direction = options.until === undefined ? undefined : BALANCER_CONDITIONS[options.until as ConditionName];
    return direction && { direction, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) };
  },
  readsPerUser: (options, counts) => (options.until || options.heavy ? undefined : evaluateCount(options.reads ?? (() => counts.reads), counts)),
  async run(context, options) {
    if (options.until) {
      await readUntil(context, options.until as ConditionName, options.timeoutMs ?? detectionBoundMs(context.balancer.healthCheck, 'unhealthy'));
      return;
    }
    const perUser = evaluateCount(options.reads ?? ((counts) => counts.reads), context.counts);
    const heavyUsers = options.heavy ? new Set(context.rng.shuffle(context.users.map((user) => user.index)).slice(0, evaluateCount(options.heavy.users, context.counts))) : new Set<number>();
    const factor = options.heavy?.factor ?? 1;
    await readRounds(context, (user) => (heavyUsers.has(user) ? perUser * factor : perUser), { expiredCookies: options.expiredCookies });
  },
});

/** Every user reads its session `perUser` times, in the phase's seeded order. */
export async function readRounds(context: PhaseClient, perUser: number | ((user: number) => number), options: { expiredCookies?: boolean } = {}): Promise<void> {
  const order = interleave(context.users.map((user) => user.index), perUser, context.rng.shuffle);
  const tasks = order.map((index) => {
    const user = context.users[index]!;
    return { user: index, run: async () => void (await context.read(index, user.jar, user.identity, options)) };
  });
  await runInOrder(tasks, context.concurrency, context.signal);
}

/**
 * How long a phase's background work may take to stop once told to (its deadline, or the run
 * being stopped): a step already under way (a replica starting, a toxic being removed) finishes
 * before the cluster's teardown runs. Each such step bounds itself; this bounds the wait on it.
 */
export const STOP_GRACE_MS = 30_000;

/**
 * Users keep reading, a round at a time, while `work` runs (a fault, a condition awaited), for
 * at most `timeoutMs`. The work is given a signal that fires at that deadline (or when the run is
 * stopped); once reading has stopped, it has `stopGraceMs` (STOP_GRACE_MS unless a step under way
 * bounds itself by longer) to settle, past which this throws rather than wait on it. Whatever the
 * work throws is thrown after the round.
 */
export async function readWhile<T>(context: PhaseClient, work: (signal: AbortSignal) => Promise<T>, timeoutMs: number, stopGraceMs = STOP_GRACE_MS): Promise<T> {
  const stop = new AbortController();
  const signal = AbortSignal.any([context.signal, stop.signal]);
  let settled = false;
  // Started before the deadline's timer: a work bounded by the same figure ends on its own first.
  let started: Promise<T>;
  try {
    started = work(signal);
  } catch (error) {
    started = Promise.reject(error);
  }
  const watched = started.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  void watched.then(() => (settled = true));
  const expired = () => new WorkDeadlineError(`phase ${context.phase}: its work did not finish within ${timeoutMs} ms`);
  const timer = setTimeout(() => stop.abort(expired()), timeoutMs);
  const deadline = context.now() + timeoutMs;
  let reading: { error: unknown } | undefined;
  try {
    do {
      await readRounds(context, 1);
    } while (!settled && context.now() < deadline);
  } catch (error) {
    reading = { error };
  } finally {
    clearTimeout(timer);
  }
  // Reading stopped (done, past the deadline, or the run is being torn down): the work is told to
  // stop and still finishes first, so that no fault step runs on behind the cluster's teardown.
  if (!settled) stop.abort(expired());
  const outcome = await settleWithin(watched, stopGraceMs, undefined);
  if (reading) throw reading.error;
  if (outcome === undefined) throw new WorkDeadlineError(`phase ${context.phase}: its work did not stop within ${stopGraceMs} ms of its ${timeoutMs} ms deadline`);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** A phase's work that ran past its deadline. */
export class WorkDeadlineError extends EnvironmentError {}

function readUntil(context: PhaseClient, name: ConditionName, timeoutMs: number): Promise<void> {
  // The condition bounds itself by the same figure, and says what it waited for when it gives up.
  return readWhile(context, () => conditions[name](context, timeoutMs), timeoutMs);
}
