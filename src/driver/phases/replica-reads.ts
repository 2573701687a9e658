import { allSettledOrThrow } from '../../platform/settled.js';
import { z } from 'zod';
import { EnvironmentError } from '../../platform/errors.js';
import { classifyAction, isError, type Exchange } from '../driver.js';
import { definePhase, type PhaseClient } from '../phase.js';
import { judgedReplicaRead, type Outcome, type ReplicaReadRecord, type ReplicaReadsRecord } from '../records.js';
import type { VirtualUser } from '../users.js';

/**
 * Read-your-writes through a replica (DESIGN.md): each user, one request at a time, increments its
 * session's counter on the primary (the app's endpoint) and, once that is acknowledged with the
 * counter v, reads the counter through the store's reader endpoint (the profile's readReplica).
 * A read that shows no session, or a counter below v, is a violation: the replica had not yet
 * applied what the user was told was saved. With `replicationDelay`, --replication-delay sits on
 * the replication links meanwhile, as a replica that far behind.
 */
export const replicaReads = definePhase({
  kind: 'replica-reads',
  description: 'each user writes its session on the primary and reads it back through the store\'s reader endpoint (a replica), one request at a time; reads that show no session or an older counter are read-your-writes violations',
  needsStore: true,
  needsStoreReader: true,
  needsRequests: ['increment', 'readReplica'],
  needsReplication: () => true,
  options: z.strictObject({
    /** How long the users write and read. */
    durationMs: z.number().int().min(100).max(300_000).default(2_000),
    /** Put --replication-delay on the replication links meanwhile. */
    replicationDelay: z.boolean().default(false),
  }),
  async run(context, options) {
    const store = context.store;
    const replication = store?.replication;
    const where = `phase ${context.phase}`;
    if (!store || !replication) throw new EnvironmentError(`${where}: replica reads need a replicated store (a primary and replicas); this cluster has ${store ? store.description : 'no store'}`);
    if (!store.endpoints.reader || !replication.readerNode) throw new EnvironmentError(`${where}: ${store.description} has no reader endpoint to read replicas through`);
    const { increment, readReplica, replicaCounterValue, counterValue } = context.profile;
    if (!increment || !readReplica || !replicaCounterValue || !counterValue) throw new EnvironmentError(`${where}: the app profile "${context.profile.name}" needs increment, counter and readReplica requests`);
    const delayMs = options.replicationDelay ? (context.replicationDelayMs ?? 0) : 0;
    if (options.replicationDelay && !replication.setLinkDelay) throw new EnvironmentError(`${where}: replicationDelay needs replication links hactl can slow; ${store.description} has none`);
    const reader = replication.readerNode();
    // Reads of the primary would show every write: a 0 that measured nothing.
    if (reader === undefined) throw new EnvironmentError(`${where}: the reader endpoint reaches no running replica now (the primary is ${replication.primary()}), so reads through it would not be a replica's`);

    const record: ReplicaReadsRecord = { phase: context.phase, replicationDelayMs: delayMs, reader, writes: 0, writesAcknowledged: 0, reads: [] };
    // A variant whose app must wait for a replica (WAIT) reads 0 violations of an app that never waited for the wrong reason.
    const primary = replication.primary();
    const syncBefore = await replication.syncRequests?.().catch(() => undefined);
    const readerBefore = await replication.readerConnections?.();
    if (delayMs > 0) await replication.setLinkDelay!(delayMs);
    try {
      const deadline = context.now() + options.durationMs;
      const slots = new Slots(context.concurrency);
      // Every user's loop ends before the delay is taken off and a failure is thrown: none keeps sending under a reset link.
      await allSettledOrThrow(context.users.map((user) => userLoop(context, user, record, deadline, slots)));
    } finally {
      if (delayMs > 0 && !context.signal.aborted) await replication.setLinkDelay!(0);
    }
    context.replicaReads.push(record);

    // What makes the figures no measurement of a replica: said instead of a number.
    if (record.writesAcknowledged === 0) throw new EnvironmentError(`${where}: no session write (${increment.method} ${increment.path}) was answered 2xx with the counter in ${options.durationMs} ms (${record.writes} sent), so no read could be checked against it; is the profile's increment request right?`);
    if (!record.reads.some(answered)) throw new EnvironmentError(`${where}: no read through the reader endpoint (${readReplica.method} ${readReplica.path}) got an answer (${record.reads.length} sent; statuses ${statuses(record.reads)}); does the app serve it from the store's reader URL?`);
    const after = replication.readerNode();
    if (after !== reader) throw new EnvironmentError(`${where}: the reader endpoint moved from ${reader} to ${after ?? 'no replica'} during the reads (a failover): the reads are not one replica's`);
    const syncAfter = syncBefore !== undefined && replication.primary() === primary ? await replication.syncRequests?.().catch(() => undefined) : undefined;
    if (syncBefore !== undefined && syncAfter !== undefined && syncAfter === syncBefore) {
      throw new EnvironmentError(`${where}: the variant acknowledges a write only once a replica has it, but the app never asked the primary to wait (0 WAIT calls during ${record.writesAcknowledged} acknowledged writes): its reads would be an asynchronous store's; the app must call WAIT after each session write`);
    }
    const connections = await replication.readerConnections?.();
    if (connections && connections.accepted === 0) {
      throw new EnvironmentError(`${where}: no connection ever reached the reader endpoint (${store.endpoints.reader.url}): the app's replica reads (${readReplica.method} ${readReplica.path}) came from elsewhere, so they say nothing of a replica; give the app the reader URL ({redisReaderUrl}, {postgresReaderUrl})`);
    }
    // A connection made once (a client's PING at start) proves nothing of the reads: each read must send the reader a query.
    const sent = connections?.received !== undefined && readerBefore?.received !== undefined ? connections.received - readerBefore.received : undefined;
    const readsAnswered = record.reads.filter(answered).length;
    if (sent !== undefined && sent < readsAnswered * SMALLEST_QUERY_BYTES) {
      throw new EnvironmentError(`${where}: the reader endpoint (${store.endpoints.reader.url}) received ${sent} bytes during ${readsAnswered} answered reads (${readReplica.method} ${readReplica.path}): the app read from elsewhere (the primary?), so the reads say nothing of a replica; have the app serve that request from the reader URL ({redisReaderUrl}, {postgresReaderUrl})`);
    }
    // Every read without a counter would be a session missing on the replica; a replica missing every session is a profile reading the wrong field.
    if (!record.reads.some((read) => read.value !== null)) {
      throw new EnvironmentError(`${where}: no read through the reader endpoint (${readReplica.method} ${readReplica.path}) carried a counter at the profile's readReplica value (${readsAnswered} answered; statuses ${statuses(record.reads)}): is readReplica.value the JSON path of the counter in the app's answer?`);
    }
  },
});

/** Fewer bytes than this per read cannot have carried a query: a Redis `GET k` is 14 bytes of RESP, a PostgreSQL query message more. */
const SMALLEST_QUERY_BYTES = 8;

const answered = judgedReplicaRead;

function statuses(reads: readonly ReplicaReadRecord[]): string {
  return [...new Set(reads.map((read) => read.status))].sort((a, b) => a - b).slice(0, 5).join(', ') || 'none';
}

/** One user: write, and after an acknowledged write, read through the replica; until the deadline. */
async function userLoop(context: PhaseClient, user: VirtualUser, record: ReplicaReadsRecord, deadline: number, slots: Slots): Promise<void> {
  const profile = context.profile;
  // The highest counter acknowledged so far: a counter only goes up, so a read below it is stale.
  let acknowledged: number | undefined;
  while (context.now() < deadline && !context.signal.aborted) {
    await slots.acquire();
    try {
      const write = await context.send(user.jar, profile.increment!, user.index, classifyAction, { as: { phase: context.phase, kind: 'write' } });
      record.writes++;
      const value = profile.counterValue!(write.status, write.body);
      if (value === undefined) continue;
      record.writesAcknowledged++;
      acknowledged = Math.max(acknowledged ?? value, value);
      const expected = acknowledged;
      const at = context.now();
      const read = await context.send(user.jar, profile.readReplica!, user.index, (exchange) => classifyReplicaRead(exchange, profile.replicaCounterValue!(exchange.status, exchange.body), expected), {
        as: { phase: context.phase, kind: 'replica-read' },
      });
      const shown = profile.replicaCounterValue!(read.status, read.body);
      record.reads.push({ user: user.index, at, end: context.now(), acknowledged: expected, status: read.status, value: shown ?? null });
    } catch (error) {
      if (context.signal.aborted) return;
      throw error;
    } finally {
      slots.release();
    }
  }
}

/** A read that shows the acknowledged counter (or more) is a hit; no answer or a 5xx is an error; anything else a miss. */
export function classifyReplicaRead(exchange: Exchange, shown: number | undefined, acknowledged: number): Outcome {
  if (isError(exchange)) return 'error';
  return shown !== undefined && shown >= acknowledged ? 'hit' : 'miss';
}

/** At most `n` requests in flight across users (the run's --concurrency). */
class Slots {
  private free: number;
  private readonly queue: Array<() => void> = [];

  constructor(n: number) {
    this.free = Math.max(1, n);
  }

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free += 1;
  }
}
