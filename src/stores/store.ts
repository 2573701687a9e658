import type { SessionStoreKind } from '../app/config.js';
import type { ProcessSupervisor } from '../platform/processes.js';
import type { RedisPersistence } from '../strategies.js';
import type { Availability } from '../platform/availability.js';
import type { CommandRun } from '../platform/fault-command.js';
import type { stores } from './index.js';

/** The store commands of a deployment's own store. */
export interface StoreCommandFaults {
  /** Runs --kill-store-cmd; throws FaultCommandError (with the run) when it fails. */
  kill(signal: NodeJS.Signals): Promise<CommandRun>;
  /** Runs --start-store-cmd; undefined without one (the platform restarts the store). */
  start?(): Promise<CommandRun>;
  /** Runs --store-ready-cmd (exit 0: the store is back); undefined without one. */
  ready?(): Promise<CommandRun>;
  /** How long hactl waits for the store to be back: --fault-timeout, else 60 s. */
  backWithinMs: number;
}

/** The name strategies use for a store: a key of the store modules' registry (src/stores/index.ts). */
export type StoreName = keyof typeof stores;

/** How a store server runs beyond its defaults: a strategy's variant (`redis:aof-always`). */
export interface StoreOptions {
  persistence?: RedisPersistence;
  /** A primary with replicas and a failover, instead of one node (`redis:replica`). */
  replication?: ReplicationOptions;
}

export const FAILOVER_PROFILES = ['fast', 'aws'] as const;
/** `fast`: detection within about a second, for tests and CI; `aws`: the managed services' own waits. */
export type FailoverProfileName = (typeof FAILOVER_PROFILES)[number];

export interface ReplicationOptions {
  /** Replicas beside the primary (--store-replicas). */
  replicas: number;
  /**
   * `async`: a write is acknowledged before any replica has it (ElastiCache, streaming
   * replication); `sync`: the app, or the store, waits for a replica first (WAIT,
   * synchronous_commit).
   */
  mode: 'async' | 'sync';
  /** How long the failover takes to notice a dead primary and move the endpoint (--failover-profile). */
  profile: FailoverProfileName;
  /** Who fails over: hactl standing in for the managed service (the default), or the store's own Sentinels (`redis:sentinel`). */
  decidedBy?: StoreReplication['decidedBy'];
}

/** How a failover is timed: what the report states beside the figures it caused. */
export interface FailoverTimings {
  profile: FailoverProfileName;
  /** The primary's health is checked this often... */
  checkIntervalMs: number;
  /** ...and it is declared down after this many failed checks in a row. */
  unhealthyThreshold: number;
  /** From the promotion until the endpoint points at the new primary (a DNS record's change and TTL). */
  switchDelayMs: number;
  /** Where the figures come from. */
  source: string;
}

/** One step of a failover, as the store (hactl playing the managed service, or Sentinel) took it. */
export interface FailoverEvent {
  /** Epoch milliseconds. */
  at: number;
  kind: 'primary-down' | 'promoted' | 'endpoint-moved' | 'replica-attached' | 'rejoined-as-replica';
  /** The node it concerns: the dead primary, the promoted one, the one attached. */
  node: string;
  detail?: string;
}

/** How far a replica was behind its primary when asked. */
export interface ReplicaLag {
  node: string;
  /** Bytes of the replication stream the replica had not applied; null when it did not answer, or the store counts no bytes (MongoDB: see ms). */
  bytes: number | null;
  /** How much older the replica's last applied write was than the primary's, in ms (MongoDB's optimes); null when not known. */
  ms?: number | null;
}

/** A replicated store's failover and replication, as hactl sees and steers them. */
export interface StoreReplication {
  mode: ReplicationOptions['mode'];
  timings: FailoverTimings;
  /** Who decides the failover: hactl's controller standing in for the managed service, or the store's own (Sentinel, a MongoDB replica set's election). */
  decidedBy: 'hactl' | 'sentinel' | 'election';
  /** The node that is primary now. */
  primary(): string;
  lag(): Promise<ReplicaLag[]>;
  /** Every failover step so far, oldest first. */
  events(): readonly FailoverEvent[];
  /** Resolves with the first event of `kind` at or after `sinceEpoch`; undefined when none came within `timeoutMs`. */
  waitFor(kind: FailoverEvent['kind'], sinceEpoch: number, timeoutMs: number, signal?: AbortSignal): Promise<FailoverEvent | undefined>;
  /** The most nodes that said they were primary at one poll while each was running: above 1 is split brain. */
  mostPrimariesAtOnce(): number;
  /**
   * For a variant whose app makes its writes synchronous (Redis WAIT): how many times apps have
   * asked the primary of the moment to wait for replicas since it started. Absent when the store
   * makes writes synchronous itself (synchronous_commit) or cannot tell.
   */
  syncRequests?(): Promise<number>;
  /**
   * Puts `ms` of latency on every replication link (0 removes it), held on the primary's side: what
   * a primary has not yet delivered when it dies is lost, as a replica that far behind loses it.
   * Absent when the store has no link hactl can slow alone (a MongoDB replica set: apps and members
   * reach a member at the one address its config names, so a delay there would slow the app too).
   */
  setLinkDelay?(ms: number): Promise<void>;
  /**
   * The replica the store's reader endpoint (`endpoints.reader`) reaches now; undefined when it
   * reaches none (the only replica is down, or was promoted and no other has taken its place):
   * reads through it then prove nothing about replicas. Absent when the store has no reader endpoint.
   */
  readerNode?(): string | undefined;
  /** Connections open through the reader endpoint now, accepted and bytes received since it started: whether the reads went there at all. */
  readerConnections?(): Promise<{ connections: number; accepted: number; received?: number }>;
}

export type { Availability };

export interface LocalStoreContext {
  supervisor: ProcessSupervisor;
  /** A directory of this run's own, removed at teardown. */
  runDir: string;
  runId: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/**
 * What a node does in its store. An interface, not a closed union, so that a topology module
 * with another kind of node (an arbiter, say) adds its role by declaration merging
 * (`declare module './store.js' { interface StoreRoles { arbiter: true } }`) without touching
 * this file; scenarios name roles as strings, checked against the store's own nodes at load.
 */
export interface StoreRoles {
  /** Takes the writes; what the app's endpoint reaches on a one-node store. */
  primary: true;
  /** Holds a copy of a primary's data. */
  replica: true;
  /** Watches the data nodes and decides failovers (Redis Sentinel). */
  sentinel: true;
  /** Holds one part of the data (a memcached or Redis Cluster shard). */
  shard: true;
}
export type StoreRole = keyof StoreRoles & string;

/**
 * Where one node listens on the store's network (what an app or a fault proxy beside the apps
 * connects to); or, for a node hactl did not start and cannot see (a deployment's own store),
 * that it does not know, and why. Never an empty URL: a fault proxy aimed at one would stand in
 * front of nothing.
 */
export type NodeAddress =
  | { known: true; host: string; port: number; /** The URL a client uses to reach this node alone. */ url: string }
  | { known: false; why: string };

/** What hactl can do to a node it runs: a process, a container. */
export interface StoreNodeControls {
  /** Kills the node's server with a signal, as a fault would. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again after a kill, on the same address and data; resolves once it answers. */
  start(): Promise<void>;
  /** Freezes it (SIGSTOP, docker pause): connections stay open, nothing answers. */
  pause(): Promise<void>;
  unpause(): Promise<void>;
}

/** One server of a store, with its role, its own address and the faults that can be done to it. */
export interface StoreNode {
  /** Unique in its store, the same on every runtime (`node-1`): what a scenario's `node:` names. */
  id: string;
  role: StoreRole;
  address: NodeAddress;
  /** Absent when hactl cannot kill or pause the node itself (HACTL_MONGO_URL, a deployment's own store). */
  controls?: StoreNodeControls;
  /** Present when the node's faults are the user's commands (--runtime external): kill-store waits for it to be back and verifies the fault. */
  commandFaults?: StoreCommandFaults;
}

/**
 * An address apps are given to reach the store (a template field such as {redisUrl}): today
 * one node's URL; a primary endpoint that follows failovers, a Sentinel list or a replica-set
 * URL later. `nodes` are those it reaches, so that a fault proxy put in front of one of them
 * knows which endpoint it changes.
 */
export interface StoreEndpoint {
  url: string;
  nodes: readonly string[];
}

/** A store that is up and accepting connections: its nodes, and the endpoints apps connect to. */
export interface RunningStore {
  name: StoreName;
  /** One line for reports: program, version, address, settings that matter. */
  description: string;
  nodes: readonly StoreNode[];
  /**
   * `app` is the endpoint replicas are wired to; absent when hactl does not know where the apps
   * reach the store (a deployment's own, which hactl only hears about).
   */
  endpoints: {
    app?: StoreEndpoint;
    /**
     * A replicated store's reader endpoint (ElastiCache's reader endpoint, an RDS cluster's
     * reader): it reaches a replica, never the primary while a replica runs, so that an app that
     * reads sessions there reads what replication has delivered. Absent on one node, and where
     * the store has none yet.
     */
    reader?: StoreEndpoint;
  };
  /**
   * How many entries the store holds (keys, rows of user tables, documents), asked by hactl
   * itself: an app that never wrote a session there is not using the store, and its rows would
   * measure per-replica memory under the store's name.
   */
  countEntries?(): Promise<number>;
  /** Present on a replicated store: its failover and replication links. */
  replication?: StoreReplication;
  /** Stops every node hactl started (or cleans up what it made in a store it did not). */
  stop(): Promise<void>;
}

/** Why the docker runtime and compose cannot run this replicated store, or undefined when they can (or it is one node). */
export function dockerReplicationProblem(store: { name: string; docker: Pick<DockerStoreRecipe, 'replicatedByHactl' | 'replicatedByItself'> }, options: StoreOptions): string | undefined {
  const replication = options.replication;
  if (!replication) return undefined;
  const decider = replication.decidedBy ?? 'hactl';
  if (decider === 'hactl' ? store.docker.replicatedByHactl : store.docker.replicatedByItself) return undefined;
  const failover = decider === 'sentinel' ? 'Sentinel\'s failover' : decider === 'election' ? 'its own election' : "hactl's failover";
  return `a replicated ${store.name} (a primary, ${replication.replicas} replica(s) and ${failover}) runs on --runtime local only so far`;
}

/** Whether a node can be killed and brought back, by hactl or by the user's commands. */
export function restartable(node: StoreNode): boolean {
  return node.controls !== undefined || node.commandFaults !== undefined;
}

/** A node's id and role, known before anything starts: what scenarios are checked against at load. */
export interface StoreNodePlan {
  id: string;
  role: StoreRole;
}

/** The nodes of a store that is one server. */
export const ONE_NODE: readonly StoreNodePlan[] = [{ id: 'node-1', role: 'primary' }];

/**
 * A store that is one server: one node, role primary, and the app's endpoint that node's URL
 * (or `endpoint`, when apps are given another URL for it). The same model as a replicated
 * store's, with one node.
 */
export function oneNodeStore(store: {
  name: StoreName;
  description: string;
  address: NodeAddress;
  endpoint?: string;
  controls?: StoreNodeControls;
  commandFaults?: StoreCommandFaults;
  countEntries?: () => Promise<number>;
  stop: () => Promise<void>;
}): RunningStore {
  const { id, role } = ONE_NODE[0]!;
  const { address, endpoint, controls, commandFaults, ...rest } = store;
  const url = endpoint ?? (address.known ? address.url : undefined);
  return {
    ...rest,
    nodes: [{ id, role, address, ...(controls ? { controls } : {}), ...(commandFaults ? { commandFaults } : {}) }],
    endpoints: url === undefined ? {} : { app: { url, nodes: [id] } },
  };
}

/**
 * A node's address from the URL a client would use to reach it alone (redis://, postgres://,
 * mongodb://). A URL without an explicit host and port (mongodb+srv://, a default port) gives an
 * unknown address with the reason: hactl does not guess ports.
 */
export function nodeAddress(url: string): NodeAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { known: false, why: 'its URL does not parse' };
  }
  if (!parsed.hostname || !parsed.port) return { known: false, why: `its ${parsed.protocol}// URL names no host and port` };
  return { known: true, host: parsed.hostname, port: Number(parsed.port), url };
}

/** How a store runs in a container, on any Docker engine: the same server, from an image. */
export interface DockerStoreRecipe {
  /** The name users give to --image (`--image redis=...`), and the official image used by default. */
  image: { key: string; default: string };
  /**
   * Whether the docker runtime and compose can run it replicated with hactl's failover (nodes,
   * links and endpoint as containers): a topology another decider runs (Sentinel, an election)
   * needs its own containers, and is refused until it has them.
   */
  replicatedByHactl?: true;
  /** Whether they can run it replicated with its own decider (Sentinel's containers, a replica set's members). */
  replicatedByItself?: true;
  /** The port the server listens on in its own network namespace, on a bridge network. */
  port: number;
  /** How to run it listening on host:port: the command (after the image's entrypoint) and environment. */
  container(listen: { host: string; port: number }, options: StoreOptions): { command: string[]; env: Record<string, string> };
  /** The URL a replica uses to reach the server at host:port. */
  url(host: string, port: number): string;
  /** Whether the server answers at host:port, asked from hactl. */
  probe(host: string, port: number): Promise<boolean>;
  /** How the server shuts down cleanly; Docker's default is SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** What the report says about it besides image and address. */
  settings(options: StoreOptions): string;
}

/**
 * One store: its nodes, how to find it and start it per runtime, when it is ready, its URL. Adding a
 * store is adding one file that exports one of these.
 */
export interface StoreModule {
  name: StoreName;
  /** Which session store the demo app opens against this server. */
  appStore: SessionStoreKind;
  /** Its nodes under these options, as every runtime starts them: scenarios' node and role choices are checked against them at load. */
  nodes(options: StoreOptions): readonly StoreNodePlan[];
  local: {
    check(env: NodeJS.ProcessEnv): Promise<Availability>;
    start(context: LocalStoreContext, options: StoreOptions): Promise<RunningStore>;
  };
  docker: DockerStoreRecipe;
  /** Entries the server at `url` holds (hactl's own view, not a replica's): see RunningStore.countEntries. */
  countEntries(url: string): Promise<number>;
  /** The `{field}` of --app-cmd and --app-env that carries this store's URL, for messages. */
  urlField: string;
}
