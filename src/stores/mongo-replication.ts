import { mkdir } from 'node:fs/promises';
import { FailoverLog } from './replication/failover-log.js';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { freePorts } from '../platform/ports.js';
import { waitUntilReady } from '../platform/processes.js';
import { stopEach } from '../platform/teardown.js';
import { pollUntil, settleWithin, sleep } from '../platform/time.js';
import { describeTimings, failoverBoundMs } from './replication/timings.js';
import {
  lagFromStatus,
  MEMBER_STATE,
  memberUrl,
  MONGO_FAILOVER_TIMINGS,
  parseSetStatus,
  replicaSetConfig,
  replicaSetNodes,
  replicaSetUrl,
  watchStep,
  writeConcernOf,
  type Member,
  type MemberPoll,
  type SetStatus,
  type WatchState,
} from './mongo-replica-set.js';
import { serverProcessNode } from './server-process.js';
import type { FailoverEvent, FailoverTimings, LocalStoreContext, ReplicaLag, ReplicationOptions, RunningStore, StoreNode, StoreNodeControls } from './store.js';

export const READY_TIMEOUT_MS = 30_000;
/** Initiating a set and its first election; a loaded machine's mongod is slow to elect. */
const ELECTED_TIMEOUT_MS = 60_000;
/** replSetInitiate checks that every member answers before it accepts the config. */
const INITIATE_TIMEOUT_MS = 30_000;
/** A member that rejoins may roll back writes the others never had before it is SECONDARY again. */
const REJOIN_TIMEOUT_MS = 60_000;
/** One question to one member: short, so that a dead member costs a poll little. */
export const ASK_TIMEOUT_MS = 1_000;
/** How often hactl asks every member how it stands: the resolution of the failover's timeline. */
const WATCH_INTERVAL_MS = 100;
/** How long a member gets to shut down cleanly at teardown before it is killed. */
const MEMBER_STOP_GRACE_MS = 5_000;
/** The database the app is given, as the one-node store's URL names it. */
export const DATABASE = 'hactl';

/** What the mongo store module gives this topology. */
export interface MongodServer {
  binary: string;
  version: string;
}

/**
 * Amazon DocumentDB's cluster, or a self-run MongoDB replica set, on the local runtime: `1 +
 * replicas` `mongod --replSet` processes, initiated through the official driver. MongoDB, not hactl,
 * decides a failover (its members elect a new primary) and the apps' driver, given every member in
 * a replica-set URL, follows the election itself: there is no endpoint for hactl to move. hactl
 * only watches, asking every member its state many times a second, and records the steps it sees.
 * A killed member comes back once another was elected, and rejoins as a secondary.
 *
 * No replication links: a member's config names one host:port that both the other members and the
 * apps' driver use (the driver learns the hosts from the members), so a delay put there would slow
 * the apps' writes as well as replication. replica-lag is skipped here with that reason.
 */
export async function startReplicaSet(context: LocalStoreContext, server: MongodServer, replication: ReplicationOptions): Promise<RunningStore> {
  const timings = MONGO_FAILOVER_TIMINGS[replication.profile];
  const plans = replicaSetNodes(replication);
  const setName = `hactl-${context.runId}`;
  const ports = await freePorts(plans.length);
  const members: Member[] = plans.map((plan, i) => ({ id: plan.id, host: '127.0.0.1', port: ports[i]! }));
  const nodes: StoreNode[] = plans.map((plan, i) => ({ id: plan.id, role: plan.role, address: { known: true, host: '127.0.0.1', port: ports[i]!, url: `mongodb://127.0.0.1:${ports[i]!}/${DATABASE}?directConnection=true` } }));
  const memberOf = (node: StoreNode) => members[nodes.indexOf(node)]!;
  const byName = new Map(members.map((member, i) => [`${member.host}:${member.port}`, nodes[i]!]));
  const running = new Set<StoreNode>();
  const stops: Array<{ what: string; stop: () => Promise<void> }> = [];
  const clients = new MemberClients();
  stops.push({ what: 'hactl\'s connections to the members', stop: () => clients.close() });
  let watch: ReplicaSetWatch | undefined;

  const stopAll = async () => {
    await watch?.stop();
    const failures = await stopEach([...stops].reverse());
    if (failures.length > 0) throw new EnvironmentError(failures.join('; '));
  };

  try {
    const { MongoClient } = await import('mongodb');
    clients.create = (url) => new MongoClient(url, { serverSelectionTimeoutMS: ASK_TIMEOUT_MS, connectTimeoutMS: ASK_TIMEOUT_MS, socketTimeoutMS: 2 * ASK_TIMEOUT_MS });
    const launch = (node: StoreNode) => async () => {
      const member = memberOf(node);
      const dbPath = path.join(context.runDir, 'mongo', node.id);
      await mkdir(dbPath, { recursive: true });
      const args = [
        '--replSet', setName,
        '--dbpath', dbPath,
        '--port', String(member.port),
        '--bind_ip', member.host,
        '--quiet',
        // Three servers on one machine: each takes a small cache and oplog, not half the memory and 5% of the disk.
        '--wiredTigerCacheSizeGB', '0.25',
        '--oplogSize', '64',
      ];
      const process = await waitUntilReady(await context.supervisor.spawn(`mongod ${node.id}`, server.binary, args, { env: context.env }), () => ping(clients, member), {
        what: `mongod ${node.id} on ${member.host}:${member.port}`,
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 100,
        signal: context.signal,
      });
      running.add(node);
      return process;
    };

    const servers = new Map<StoreNode, Awaited<ReturnType<typeof serverProcessNode>>>();
    // All at once: a primary asked to shut down waits for a secondary to catch up, and secondaries
    // stopped one by one before it would make it wait its whole grace.
    stops.push({
      what: 'the replica set\'s mongod members',
      async stop() {
        const failures = (await Promise.allSettled([...servers.values()].map((server) => server.stop()))).flatMap((result) => (result.status === 'rejected' ? [errorMessage(result.reason)] : []));
        if (failures.length > 0) throw new EnvironmentError(failures.join('; '));
      },
    });
    for (const node of nodes) {
      // The data is this run's alone, removed with its directory: a clean shutdown is not worth a long wait.
      servers.set(node, await serverProcessNode(launch(node), MEMBER_STOP_GRACE_MS));
    }

    await initiate(MongoClient, members[0]!, nodes[0]!, replicaSetConfig(setName, members, timings));
    const primary = await waitForElected(clients, members, nodes, context.signal);
    // The plan's node-1 is usually the one elected; when another is, the roles say what is.
    for (const node of nodes) node.role = node === primary ? 'primary' : 'replica';

    const owned = (watch = new ReplicaSetWatch(nodes, (node) => running.has(node), (node) => askMember(clients, memberOf(node)), primary));
    owned.start();

    for (const node of nodes) {
      const started = servers.get(node)!;
      node.controls = memberControls(node, owned, {
        timings,
        signal: context.signal,
        async kill(signal) {
          running.delete(node);
          await started.controls.kill(signal);
        },
        async restart() {
          await started.controls.start();
          await waitForSecondary(clients, memberOf(node), node, context.signal);
        },
        pause: started.controls.pause,
        unpause: started.controls.unpause,
      });
    }

    const url = replicaSetUrl(setName, members, DATABASE, replication.mode);
    const w = writeConcernOf(replication.mode);
    const described = `mongod ${server.version}: a replica set of ${members.length} members on 127.0.0.1 (${nodes.map((node) => `${node.id} :${memberOf(node).port}`).join(', ')}), journaled, the app's write concern w: ${w === 'majority' ? 'majority (acknowledged once a majority has the write)' : '1 (acknowledged by the primary alone)'}; the driver follows MongoDB's own election (${describeTimings(timings)})`;
    return {
      name: 'mongo',
      description: described,
      nodes,
      endpoints: { app: { url, nodes: nodes.map((node) => node.id) } },
      countEntries: () => countOnPrimary(clients, memberOf(owned.primary())),
      replication: {
        mode: replication.mode,
        timings,
        decidedBy: 'election',
        primary: () => owned.primary().id,
        lag: () => lagOf(clients, memberOf(owned.primary()), (name) => byName.get(name)?.id),
        events: () => owned.events(),
        waitFor: (kind, since, timeoutMs, signal) => owned.waitFor(kind, since, timeoutMs, signal),
        mostPrimariesAtOnce: () => owned.mostPrimariesAtOnce(),
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

/**
 * A member's kill and start, on any runtime: a killed primary comes back only once the others
 * elected a new one (first, it could win the election itself and no failover would be measured),
 * and `restart` resolves once it is a secondary again (with its data: a member keeps its own).
 */
export function memberControls(
  node: StoreNode,
  watch: ReplicaSetWatch,
  options: {
    timings: FailoverTimings;
    signal?: AbortSignal | undefined;
    /** Marks the member not running (the watch asks only running members), then kills it. */
    kill(signal: NodeJS.Signals): Promise<void>;
    restart(): Promise<void>;
    pause(): Promise<void>;
    unpause(): Promise<void>;
  },
): StoreNodeControls {
  let killed: { at: number; wasPrimary: boolean } | undefined;
  return {
    async kill(signal) {
      killed = { at: Date.now(), wasPrimary: watch.primary() === node };
      await options.kill(signal);
    },
    async start() {
      if (watch.primary() === node) {
        const bound = failoverBoundMs(options.timings);
        const elected = await watch.waitFor('promoted', killed?.at ?? Date.now(), bound, options.signal);
        if (!elected) throw new EnvironmentError(`no other member of the replica set was elected primary within ${bound} ms of ${node.id}'s kill, so it cannot rejoin as a secondary`);
      }
      await options.restart();
      watch.record(killed?.wasPrimary ? 'rejoined-as-replica' : 'replica-attached', node, `to ${watch.primary().id}`);
      killed = undefined;
    },
    pause: options.pause,
    unpause: options.unpause,
  };
}

/** replSetInitiate on `member`, with a client of its own: the command reaches every member before it answers, longer than a poll's question may take. */
export async function initiate(Client: typeof MongoClient, member: Member, node: StoreNode, config: ReturnType<typeof replicaSetConfig>): Promise<void> {
  const initiator = new Client(memberUrl(member), { serverSelectionTimeoutMS: INITIATE_TIMEOUT_MS, connectTimeoutMS: INITIATE_TIMEOUT_MS, socketTimeoutMS: INITIATE_TIMEOUT_MS });
  try {
    await initiator.db('admin').command({ replSetInitiate: config });
  } catch (error) {
    throw new EnvironmentError(`replSetInitiate on mongod ${node.id} failed: ${errorMessage(error)}`);
  } finally {
    await settleWithin(initiator.close(), 5_000, undefined).catch(() => undefined);
  }
}

/**
 * One client per member, connected to it alone (directConnection): a question about a member's
 * state must reach that member, never whichever the driver would select.
 */
export class MemberClients {
  create: ((url: string) => MongoClient) | undefined;
  private readonly open = new Map<string, MongoClient>();

  of(member: Member): MongoClient {
    const url = memberUrl(member);
    let client = this.open.get(url);
    if (!client) {
      client = this.create!(url);
      this.open.set(url, client);
    }
    return client;
  }

  /**
   * Forgets a member's client after a failed question: a client whose first connection failed
   * (a member not yet listening) keeps a closed topology and fails every later command, so the
   * next question gets a new one.
   */
  drop(member: Member): void {
    const url = memberUrl(member);
    const client = this.open.get(url);
    this.open.delete(url);
    void client?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.values()].map((client) => settleWithin(client.close(), 5_000, undefined).catch(() => undefined)));
    this.open.clear();
  }
}

/** A command to one member, bounded: undefined when it did not answer in time. */
async function ask(clients: MemberClients, member: Member, command: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  let answered = false;
  const answer = clients
    .of(member)
    .db('admin')
    .command(command)
    .then(
      (document) => document as Record<string, unknown>,
      (error: unknown) => {
        // The member refused the command (not yet initiated, an older server): the connection is fine.
        answered = (error as { name?: string }).name === 'MongoServerError';
        return undefined;
      },
    );
  const settled = await settleWithin(answer, 2 * ASK_TIMEOUT_MS, undefined);
  if (settled === undefined && !answered) clients.drop(member);
  return settled;
}

export async function ping(clients: MemberClients, member: Member): Promise<boolean> {
  return (await ask(clients, member, { ping: 1 })) !== undefined;
}

/** What a member says of itself: its replica set state (replSetGetStatus) and whether it takes writes (hello). */
export async function askMember(clients: MemberClients, member: Member): Promise<MemberPoll['answer']> {
  const [status, hello] = await Promise.all([ask(clients, member, { replSetGetStatus: 1 }), ask(clients, member, { hello: 1 })]);
  const parsed = parseSetStatus(status);
  if (!parsed) return undefined;
  // hello is MongoDB 4.4.2 and later (and 4.2.10, 4.0.21); an older server answers isMaster with ismaster.
  const legacy = hello ? undefined : await ask(clients, member, { isMaster: 1 });
  const said = hello ?? legacy;
  if (!said) return undefined;
  return { myState: parsed.myState, writable: (hello ? said.isWritablePrimary : said.ismaster) === true };
}

/** Waits until one member is primary and every other secondary: a set that can take a majority write. */
export async function waitForElected(clients: MemberClients, members: readonly Member[], nodes: readonly StoreNode[], signal: AbortSignal | undefined): Promise<StoreNode> {
  let last = 'no answer';
  return pollUntil(
    async () => {
      const states = await Promise.all(members.map(async (member) => parseSetStatus(await ask(clients, member, { replSetGetStatus: 1 }))?.myState));
      last = states.map((state, i) => `${nodes[i]!.id} ${state ?? 'no answer'}`).join(', ');
      const primaries = states.flatMap((state, i) => (state === MEMBER_STATE.PRIMARY ? [nodes[i]!] : []));
      const secondaries = states.filter((state) => state === MEMBER_STATE.SECONDARY).length;
      return primaries.length === 1 && secondaries === members.length - 1 ? primaries[0] : undefined;
    },
    { timeoutMs: ELECTED_TIMEOUT_MS, intervalMs: 200, ...(signal ? { signal } : {}), onTimeout: () => new EnvironmentError(`the replica set had no primary and ${members.length - 1} secondaries within ${ELECTED_TIMEOUT_MS} ms of replSetInitiate (member states: ${last}; 1 primary, 2 secondary)`) },
  );
}

export async function waitForSecondary(clients: MemberClients, member: Member, node: StoreNode, signal: AbortSignal | undefined): Promise<void> {
  let last = 'no answer';
  await pollUntil(
    async () => {
      const status = parseSetStatus(await ask(clients, member, { replSetGetStatus: 1 }));
      last = status ? `state ${status.myState}` : 'no answer';
      return status?.myState === MEMBER_STATE.SECONDARY ? true : undefined;
    },
    { timeoutMs: REJOIN_TIMEOUT_MS, intervalMs: 100, ...(signal ? { signal } : {}), onTimeout: () => new EnvironmentError(`mongod ${node.id} was not a secondary again within ${REJOIN_TIMEOUT_MS} ms of its restart (${last})`) },
  );
}

/** Each secondary's lag as the primary sees it; an empty list when the primary did not answer (no figure, rather than a wrong one). */
export async function lagOf(clients: MemberClients, primary: Member, idOf: (name: string) => string | undefined): Promise<ReplicaLag[]> {
  const status: SetStatus | undefined = parseSetStatus(await ask(clients, primary, { replSetGetStatus: 1 }));
  return (status && lagFromStatus(status, idOf)) ?? [];
}

/** Documents in the app's database, asked of the primary (a secondary may be behind). */
export async function countOnPrimary(clients: MemberClients, primary: Member): Promise<number> {
  const db = clients.of(primary).db(DATABASE);
  let documents = 0;
  for (const collection of await db.listCollections({}, { nameOnly: true }).toArray()) {
    if (collection.name.startsWith('system.')) continue;
    documents += await db.collection(collection.name).estimatedDocumentCount();
  }
  return documents;
}

/**
 * hactl watching a replica set fail over by itself: every WATCH_INTERVAL_MS it asks each running
 * member how it stands and records the steps it sees (watchStep), the most members taking writes
 * at once, and the roles of the store's nodes as they change.
 */
export class ReplicaSetWatch {
  private readonly steps = new FailoverLog();
  private state: WatchState;
  private primariesAtOnce = 1;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly nodes: readonly StoreNode[],
    private readonly running: (node: StoreNode) => boolean,
    private readonly askNode: (node: StoreNode) => Promise<MemberPoll['answer']>,
    primary: StoreNode,
  ) {
    this.state = { primary: primary.id, down: false };
  }

  primary(): StoreNode {
    return this.nodes.find((node) => node.id === this.state.primary)!;
  }

  events(): readonly FailoverEvent[] {
    return this.steps.events();
  }

  mostPrimariesAtOnce(): number {
    return this.primariesAtOnce;
  }

  record(kind: FailoverEvent['kind'], node: StoreNode, detail?: string): void {
    this.steps.record(kind, node, detail);
  }

  waitFor(kind: FailoverEvent['kind'], sinceEpoch: number, timeoutMs: number, signal?: AbortSignal): Promise<FailoverEvent | undefined> {
    return this.steps.waitFor(kind, sinceEpoch, timeoutMs, signal);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.poll().catch(() => undefined);
      await sleep(WATCH_INTERVAL_MS);
    }
  }

  private async poll(): Promise<void> {
    const polls = await Promise.all(
      this.nodes.map(async (node): Promise<MemberPoll> => {
        if (!this.running(node)) return { id: node.id, running: false };
        const answer = await this.askNode(node);
        // A member killed while it was being asked answers for a server that is gone.
        return { id: node.id, running: this.running(node), ...(answer ? { answer } : {}) };
      }),
    );
    if (this.stopped) return;
    const { state, steps, writable } = watchStep(this.state, polls);
    this.primariesAtOnce = Math.max(this.primariesAtOnce, writable);
    this.state = state;
    for (const step of steps) {
      const node = this.nodes.find((candidate) => candidate.id === step.node)!;
      if (step.kind === 'promoted') for (const other of this.nodes) other.role = other === node ? 'primary' : 'replica';
      this.record(step.kind, node, step.detail);
    }
  }
}
