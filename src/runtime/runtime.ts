import type { DrainResult, HealthChange } from '../balancer/index.js';
import type { BalancerTarget } from '../balancer/settings.js';
import type { StoreModule, Availability, RunningStore, StoreNode, StoreOptions } from '../stores/store.js';
import type { NetworkMode } from '../topology/containers.js';
import type { BalancerKind, Topology } from '../topology/plan.js';
import type { Toxic } from '../faults/toxics.js';
import type { CommandRun } from './fault-command.js';
import type { RateLimiter } from '../driver/rate-limit.js';

export const RUNTIME_NAMES = ['local', 'docker', 'external'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/** auto: in hactl with a local engine, in a container with a remote one (hactl cannot follow replica ports there). */
export const BALANCER_PLACEMENTS = ['auto', 'hactl', 'container'] as const;

/** What the docker runtime needs beyond a topology. */
export interface DockerSettings {
  network: NetworkMode;
  /** Image overrides by key: `node` (the demo app's base), `redis`, `postgres`, `mongo`. */
  images: Record<string, string>;
  /** Where the balancer runs: in the hactl process, or in a container beside the replicas. */
  balancer: (typeof BALANCER_PLACEMENTS)[number];
}

/** What the external runtime needs: the deployment's address, and the user's fault commands. */
export interface ExternalSettings {
  /** The deployment's balancer, an origin such as https://shop.example.com. */
  target: string;
  /** The profile's health path, which tells whether the deployment answers again after a fault. */
  healthPath: string;
  killReplicaCmd?: string;
  startReplicaCmd?: string;
  killStoreCmd?: string;
  startStoreCmd?: string;
  /** Exits 0 once the fault it is asked about ({fault}) has taken effect: how hactl verifies a fault it cannot see. */
  verifyCmd?: string;
  /** Exits 0 once the store is back after kill-store. */
  storeReadyCmd?: string;
  /** How long one fault command may run, and how long hactl waits for a fault's outcome (--fault-timeout); 120 s when absent. */
  faultTimeoutMs?: number;
  /** Where each command runs (the config file's folder for one written there); hactl's working directory when absent. */
  commandDirs?: Partial<Record<FaultCommand, string>>;
}

export type FaultCommand = 'killReplicaCmd' | 'startReplicaCmd' | 'killStoreCmd' | 'startStoreCmd' | 'verifyCmd' | 'storeReadyCmd';

/**
 * A cluster (or store) whose faults are the user's commands (--runtime external): hactl does not
 * know when a fault takes effect, nor whether it did, so the phases keep users reading while a
 * command runs, find the moment from what users saw, and verify the fault. Absent where hactl
 * does the faults itself.
 */
export interface CommandFaults {
  /** How long one command may run, and the bound of the waits for a fault's outcome. */
  timeoutMs: number;
  /** Why no fault may be fired now (the target's health path does not answer 2xx through it), or undefined. */
  targetProblem(): Promise<string | undefined>;
  /** Runs --verify-cmd for `fault` (exit 0: the fault took effect); undefined without one. */
  verify?(fault: 'kill-replica' | 'kill-store', replica?: string): Promise<CommandRun>;
  /** Whether the target's health path answered 2xx 2 x replicas times in a row within timeoutMs (probes, not samples). */
  healthStreak(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
}

/** The replica commands of a cluster whose faults are the user's. */
export interface ReplicaCommandFaults extends CommandFaults {
  /** Runs --kill-replica-cmd; throws FaultCommandError (with the run) when it fails. */
  kill(replica: string, signal: NodeJS.Signals): Promise<CommandRun>;
  /** Runs --start-replica-cmd; undefined without one. */
  start?(replica: string): Promise<CommandRun>;
}

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

/**
 * What a scenario's phases may ask of a cluster beyond sending requests. A runtime that cannot do
 * one (the external runtime without the user's fault commands) has the scenario skipped.
 */
export type ClusterControl = 'kill-replica' | 'start-replica' | 'deregister-replica' | 'kill-store' | 'store-proxy';

export const DEFAULT_DOCKER_SETTINGS: DockerSettings = { network: 'bridge', images: {}, balancer: 'auto' };

export interface RuntimeOptions {
  runId: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** The docker runtime's settings; DEFAULT_DOCKER_SETTINGS when absent. */
  docker?: DockerSettings;
  /** The external runtime's settings (required by it). */
  external?: ExternalSettings;
  /** How many replicas the cluster has (the external runtime cannot count them). */
  replicas?: number;
  /** Lines worth showing while the runtime prepares (image pulls and builds). */
  onProgress?(line: string): void;
  /** --rate: the run's limiter. The external runtime's own probes of the deployment take a slot from it too. */
  limiter?: RateLimiter;
}

/** The fault proxy in front of a store node: the URL replicas use instead of the node's, and its toxics. */
export interface StoreProxy {
  url: string;
  setToxic(toxic: Toxic | undefined): Promise<void>;
  stop(): Promise<void>;
}

/** Turns topologies into running things. One interface, one file per backend. */
export interface Runtime {
  name: RuntimeName;
  /** Why this runtime cannot do `control` here, or undefined when it can (local and docker always can). */
  unsupported?(control: ClusterControl): string | undefined;
  /** Whether this runtime can run that balancer here (HAProxy must be installed, or its image had). */
  checkBalancer(kind: BalancerKind): Promise<Availability>;
  checkStore(store: StoreModule): Promise<Availability>;
  /** Starts a TCP fault proxy in front of one node of the store, where the replicas can reach it. */
  startStoreProxy(node: StoreNode): Promise<StoreProxy>;
  startStore(store: StoreModule, options: StoreOptions): Promise<RunningStore>;
  startCluster(topology: Topology, store: RunningStore | undefined): Promise<Cluster>;
  /** Stops everything this runtime started, whatever state it is in. */
  close(): Promise<void>;
}

/** A running topology: the balancer's address, and the faults a scenario may inject. */
export interface Cluster {
  balancerUrl: string;
  replicaIds: readonly string[];
  /** The replicas as hactl reaches them without the balancer, when it can (the balancer's overhead is measured against them). */
  directTargets?: readonly BalancerTarget[];
  /** Kills a replica with `signal`; for SIGKILL, resolves once it is gone. Returns when the signal was sent. */
  killReplica(replicaId: string, signal: NodeJS.Signals): Promise<{ at: number }>;
  /** Starts a killed replica again, on the same address; resolves once it answers. */
  startReplica(replicaId: string): Promise<void>;
  /** Freezes a replica (SIGSTOP, docker pause): connections stay open, nothing answers. */
  pauseReplica(replicaId: string): Promise<{ at: number }>;
  unpauseReplica(replicaId: string): Promise<void>;
  waitForReplicaHealth(replicaId: string, healthy: boolean, timeoutMs: number, signal?: AbortSignal): Promise<HealthChange>;
  /** The balancer's health changes since `since` (epoch milliseconds), where hactl sees them (not on an external deployment). */
  healthChanges?(since: number): HealthChange[];
  /** Takes a replica out of the balancer as ALB deregistration does: it drains, then gets nothing. */
  deregisterReplica(replicaId: string): Promise<DrainResult>;
  /** Puts a deregistered replica back; it serves once health checks pass (waitForReplicaHealth). */
  registerReplica(replicaId: string): Promise<void>;
  /** Present when faults are the user's commands (--runtime external): see CommandFaults. */
  commandFaults?: ReplicaCommandFaults;
  /** Why the cluster stopped working on its own (its balancer died), if it did. */
  failure(): string | undefined;
  stop(): Promise<void>;
}
