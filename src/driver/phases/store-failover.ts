import { z } from 'zod';
import { EnvironmentError, errorMessage, StoreLostError } from '../../platform/errors.js';
import { sleep } from '../../platform/time.js';
import { describeTimings, failoverBoundMs } from '../../stores/replication/timings.js';
import { chooseNode, choiceIn, describeChoice, NODE_CHOICE_FIELDS, nodeTarget, ONE_CHOICE } from '../../stores/node-choice.js';
import type { FailoverEvent, RunningStore, StoreNode } from '../../stores/store.js';
import { classifyAction } from '../driver.js';
import { runInOrder } from '../order.js';
import { definePhase, type PhaseClient } from '../phase.js';
import type { FailoverRecord, FinalRecord, WriteRecord } from '../records.js';
import type { VirtualUser } from '../users.js';
import type { KillStoreFault } from './kill-store.js';

/**
 * A store failover under steady writes (DESIGN.md, "Store failover"): every user keeps
 * incrementing its own session's counter, one request at a time; the primary is killed mid-way;
 * the store fails over (a replicated one) or comes back empty-handed (one node, restarted after
 * `downMs`); writes go on until one is acknowledged again and for `afterMs` more; then every user
 * reads its session and counter. What was acknowledged and is gone is the store's loss.
 */
export const storeFailover = definePhase({
  kind: 'store-failover',
  description: 'users keep writing their sessions one request at a time while the store primary is killed and the store fails over; then each reads its session and counter back',
  needsStore: true,
  needsRequests: ['increment'],
  storeNode: (options) => choiceIn(options),
  needsReplication: (options) => options.replicationDelay,
  controls: ['kill-store'],
  options: z
    .strictObject({
      ...NODE_CHOICE_FIELDS,
      signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGINT']).default('SIGKILL'),
      /** Writes before the kill. */
      beforeMs: z.number().int().min(100).max(300_000).default(2_000),
      /** Writes after the first acknowledged one after the kill. */
      afterMs: z.number().int().min(0).max(300_000).default(1_000),
      /** A store of one node: how long it stays down before it is started again (a replicated one fails over instead). */
      downMs: z.number().int().min(0).max(300_000).default(1_000),
      /** Put --replication-delay on the replication links while the writes run (replica-lag). */
      replicationDelay: z.boolean().default(false),
    })
    .refine(...ONE_CHOICE),
  async run(context, options) {
    const store = context.store;
    if (!store) throw new EnvironmentError(`phase ${context.phase}: this cluster has no session store to fail over`);
    if (!context.profile.increment) throw new EnvironmentError(`phase ${context.phase}: the app profile "${context.profile.name}" has no increment request to write sessions with`);
    const node = chooseNode(store.name, store.nodes, choiceIn(options));
    if (typeof node === 'string') throw new EnvironmentError(`phase ${context.phase}: ${node}`);
    const controls = node.controls;
    if (!controls) throw new EnvironmentError(`phase ${context.phase}: hactl cannot kill ${describeChoice(choiceIn(options))} of ${store.description}`);
    const replication = store.replication;
    const delayMs = options.replicationDelay ? (context.replicationDelayMs ?? 0) : 0;
    if (options.replicationDelay && !replication?.setLinkDelay) throw new EnvironmentError(`phase ${context.phase}: replicationDelay needs a replicated store with replication links (a :replica variant); ${store.description} has none`);

    // A failover during the phase before the kill (a primary too slow to answer its checks) is reported apart.
    const phaseEpoch = Date.now();
    const writes: WriteRecord[] = [];
    const writers = new Writers(context, writes);
    if (delayMs > 0) await replication!.setLinkDelay!(delayMs);
    const syncRequestsBefore = await replication?.syncRequests?.().catch(() => undefined);
    const primaryBefore = replication?.primary();
    let record: FailoverRecord | undefined;
    try {
      writers.start();
      await sleep(options.beforeMs, undefined, { signal: context.signal });
      // No write acknowledged, nothing to lose: a loss of 0 would be a figure of nothing.
      if (!writes.some((write) => write.status >= 200 && write.status < 300)) {
        const statuses = [...new Set(writes.map((write) => write.status))].sort((a, b) => a - b).slice(0, 5).join(', ') || 'none';
        throw new EnvironmentError(`phase ${context.phase}: no session write (${context.profile.increment.method} ${context.profile.increment.path}) was answered 2xx in ${options.beforeMs} ms before the kill (${writes.length} sent; statuses ${statuses}), so there is nothing whose loss could be measured; is the profile's increment request right?`);
      }
      const lagBeforeKill = replication ? await replication.lag().catch(() => []) : [];
      // A variant whose app makes writes synchronous measures nothing if the app never asked: how many times it did.
      const syncRequestsAfter = syncRequestsBefore !== undefined && replication?.primary() === primaryBefore ? await replication?.syncRequests?.().catch(() => undefined) : undefined;
      const syncRequests = syncRequestsBefore !== undefined && syncRequestsAfter !== undefined ? syncRequestsAfter - syncRequestsBefore : undefined;
      const killEpoch = Date.now();
      const signalled = context.now();
      await controls.kill(options.signal);
      const at = deathMoment(writes, signalled, context.now());
      const fault: KillStoreFault = { kind: 'kill-store', target: nodeTarget(store, node), at, detail: { signal: options.signal, downMs: options.downMs } };
      context.faults.push(fault);
      record = { node: node.id, at, ...(delayMs > 0 ? { replicationDelayMs: delayMs } : {}), ...(syncRequests !== undefined ? { syncRequests } : {}), writes, finals: [] };
      context.failovers.push(record);

      // A replicated store's killed node is replaced and rejoins as a replica once the failover is
      // done, while users write (a sync variant needs it back to acknowledge anything); one node
      // comes back after downMs, without what it held in memory.
      const rejoined = replication
        ? restart(controls, store, node).then(() => void (fault.endAt = context.now()))
        : sleep(options.downMs, undefined, { signal: context.signal }).then(() => restart(controls, store, node)).then(() => void (fault.endAt = context.now()));
      // Awaited below; a failure here must not go unhandled meanwhile.
      rejoined.catch(() => undefined);
      const boundMs = (replication ? failoverBoundMs(replication.timings) : options.downMs) + RECONNECT_SLACK_MS;
      const back = await writers.firstAcknowledgedAfter(at, boundMs, context.signal);
      if (back !== undefined) await sleep(options.afterMs, undefined, { signal: context.signal });
      await writers.stop();
      // Read back once the store is whole again (a sync variant answers nothing before its replica is back).
      await rejoined;
      record.finals.push(...(await readFinals(context)));
      if (replication) {
        record.failover = {
          decidedBy: replication.decidedBy,
          mode: replication.mode,
          profile: replication.timings.profile,
          timings: describeTimings(replication.timings),
          events: replication.events().filter((event) => event.at >= killEpoch).map((event) => ({ ...event, at: Math.round(context.fromEpoch(event.at)) })),
          ...beforeTheKill(replication.events(), phaseEpoch, killEpoch, context.fromEpoch),
          lagBeforeKill,
          mostPrimariesAtOnce: replication.mostPrimariesAtOnce(),
        };
      }
    } finally {
      await writers.stop();
      if (delayMs > 0 && !context.signal.aborted) await replication!.setLinkDelay!(0);
    }
  },
});

/**
 * When the node died, between the signal (`from`) and the kill's return (`to`: a runtime may
 * learn of the death late, a container engine by polling): the last acknowledgement in that
 * window, since only the old primary can have given it (a failover takes far longer), else the
 * signal. Writes answered while the signal was on its way were the primary's to keep, and a
 * late `to` would shorten the unavailability and move every lost write away from the kill.
 */
export function deathMoment(writes: readonly WriteRecord[], from: number, to: number): number {
  let last = from;
  for (const write of writes) if (write.status >= 200 && write.status < 300 && write.end >= from && write.end <= to) last = Math.max(last, write.end);
  return last;
}

/**
 * Failover steps taken during the phase but before the kill (a primary too slow or frozen to
 * answer its checks): they explain the figures as much as the kill's own, so they are recorded apart.
 */
function beforeTheKill(events: readonly FailoverEvent[], from: number, to: number, fromEpoch: (epochMs: number) => number): { eventsBeforeKill?: NonNullable<FailoverRecord['failover']>['events'] } {
  const before = events.filter((event) => event.at >= from && event.at < to && event.kind !== 'rejoined-as-replica');
  return before.length > 0 ? { eventsBeforeKill: before.map((event) => ({ ...event, at: Math.round(fromEpoch(event.at)) })) } : {};
}

/** How long after the store is back (failed over, or restarted) the app's store client may take to reconnect. */
const RECONNECT_SLACK_MS = 10_000;

async function restart(controls: NonNullable<StoreNode['controls']>, store: RunningStore, node: StoreNode): Promise<void> {
  await controls.start().catch((error: unknown) => {
    throw new StoreLostError(`${nodeTarget(store, node)} did not come back after it was killed: ${errorMessage(error)}`);
  });
}

/**
 * Every user writing its own session, one increment at a time, with at most `concurrency`
 * requests in flight across users.
 */
class Writers {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly waiting = new Set<() => void>();
  private slots: number;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly context: PhaseClient,
    private readonly writes: WriteRecord[],
  ) {
    this.slots = Math.max(1, context.concurrency);
  }

  start(): void {
    this.running = true;
    this.loops = this.context.users.map((user) => this.loop(user));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Resolves with the end of the first acknowledged write sent at or after `at`, or undefined after `timeoutMs`. */
  firstAcknowledgedAfter(at: number, timeoutMs: number, signal: AbortSignal): Promise<number | undefined> {
    const find = () => this.writes.find((write) => write.at >= at && write.status >= 200 && write.status < 300)?.end;
    return new Promise((resolve) => {
      const done = (value: number | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(check);
        signal.removeEventListener('abort', aborted);
        resolve(value);
      };
      const check = () => {
        const end = find();
        if (end !== undefined) done(end);
      };
      const aborted = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiting.add(check);
      signal.addEventListener('abort', aborted, { once: true });
      check();
    });
  }

  private async loop(user: VirtualUser): Promise<void> {
    const { context } = this;
    while (this.running && !context.signal.aborted) {
      await this.acquire();
      try {
        if (!this.running) return;
        const at = context.now();
        // Kind `write` in samples, apart from the reads back: what --samples readers count the loss from.
        const exchange = await context.send(user.jar, context.profile.increment!, user.index, classifyAction, { as: { phase: context.phase, kind: 'write' } });
        const value = context.profile.counterValue?.(exchange.status, exchange.body);
        this.writes.push({ user: user.index, at, end: context.now(), status: exchange.status, ...(value !== undefined ? { value } : {}) });
        for (const check of [...this.waiting]) check();
      } catch {
        return;
      } finally {
        this.release();
      }
    }
  }

  private acquire(): Promise<void> {
    if (this.slots > 0) {
      this.slots -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.slots += 1;
  }
}

/** How long reading every user's session back may take in all: past it, the users not read are unread, never lost. */
const FINAL_READS_MS = 30_000;

/**
 * Each user's session and counter after the failover, read as that user. As DESIGN.md's session
 * loss asks: a session is gone only after 2 x replicas answered reads without a hit (round robin
 * cannot hide a copy); a read with no answer or a 5xx proves nothing, so a user whose reads all
 * failed so is unread (null), not lost.
 */
async function readFinals(context: PhaseClient): Promise<FinalRecord[]> {
  const finals = new Map<number, FinalRecord>();
  const reads = 2 * Math.max(1, context.cluster.replicaIds.length);
  const deadline = Date.now() + FINAL_READS_MS;
  const tasks = context.users.map((user) => ({
    user: user.index,
    run: async () => {
      let session: boolean | null = false;
      for (let i = 0; i < reads; i++) {
        // Fewer than 2 x replicas reads prove no loss.
        if (Date.now() > deadline) {
          session = null;
          break;
        }
        const read = await context.read(user.index, user.jar, user.identity);
        if (context.profile.isHit(read.status, read.body, user.identity)) {
          session = true;
          break;
        }
        if (read.status === 0 || read.status >= 500) session = null;
      }
      let counter: number | null = null;
      if (session === true && context.profile.counter) {
        const answer = await context.send(user.jar, context.profile.counter, user.index, classifyAction, { as: { phase: `${context.phase}:read-back`, kind: 'read-back' } });
        counter = context.profile.counterValue!(answer.status, answer.body) ?? null;
      }
      finals.set(user.index, { user: user.index, session, counter });
    },
  }));
  await runInOrder(tasks, context.concurrency, context.signal);
  return context.users.map((user) => finals.get(user.index) ?? { user: user.index, session: null, counter: null });
}
