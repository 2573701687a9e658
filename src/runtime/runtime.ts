import type { DrainResult, HealthChange } from '../balancer/index.js';
import type { BalancerTarget } from '../balancer/settings.js';
import type { StoreModule, Availability, RunningStore, StoreNode, StoreOptions } from '../stores/store.js';
import type { BalancerKind, Topology } from '../topology/plan.js';
import type { Toxic } from '../faults/toxics.js';
import type { CommandRun } from '../platform/fault-command.js';
import type { RateLimiter } from '../platform/rate-limit.js';
import type { BalancerProfile } from '../balancer/settings.js';
import type { FlagSpec, FlagValues } from '../platform/flag.js';
import type { RuntimeFlagSpecs } from './index.js';

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

export type { StoreCommandFaults } from '../stores/store.js';

/**
 * What a scenario's phases may ask of a cluster beyond sending requests. A runtime that cannot do
 * one (the external runtime without the user's fault commands) has the scenario skipped.
 */
export type ClusterControl = 'kill-replica' | 'start-replica' | 'deregister-replica' | 'kill-store' | 'store-proxy';

/**
 * What differs by runtime at the level of a run, stated by the runtime rather than found by
 * checking its name: run.ts and the flag parsing read these, never `--runtime`'s value.
 */
export interface RuntimeTraits {
  /** Throwaway users warm the replicas up before each scenario unless --warm-up says otherwise. */
  warmUpByDefault: boolean;
  /** Every session a scenario made is logged out at its end (when the profile can log out): the store keeps nothing of the run's. */
  logsOutUsers: boolean;
  /** hactl can reach the replicas without the balancer, so the balancer's overhead is measured and stated. */
  measuresOverhead: boolean;
  /** The balancer profile the run's waits use whatever --balancer-profile says (its balancer's timings cannot be read). */
  forcedBalancerProfile?: BalancerProfile;
  /**
   * Answers name replicas by the cluster's own ids (hactl's balancer tags them): without a profile
   * `replica:` source the figures per replica need nothing else. False where the balancer is not hactl's.
   */
  namesReplicas: boolean;
  /** The app is the user's own deployment: scenarios cannot change its session settings. */
  ownApp: boolean;
}

/** What the runtime adds to the report's settings and its app. */
export interface RuntimeReport {
  settings?: { docker?: { network: string; balancer: string; images: Record<string, string> } };
  app?: { target?: string };
}

/** A balancer hactl did not start, as the report states it: what hactl knows of it. */
export interface OwnBalancerSummary {
  kind: 'external';
  target: string;
  probePath: string;
}

/**
 * The run's flags as runtimes read them: every runtime's own, by key, and those of the run's that
 * bear on a runtime (the one strategy of a deployment, hactl's own balancer). The config layer's
 * RunFlags holds all of these.
 */
export type RuntimeFlags = FlagValues<readonly RuntimeFlagSpecs[]> & {
  strategy?: string;
  port?: string;
  balancer?: string;
  balancerProfile?: string;
  algorithm?: string;
  deregistrationDelay?: string;
};

/** What a runtime learns once the app profile and the config file are read. */
export interface RuntimeContext {
  healthPath: string;
  /** Where a command given by this flag runs: the config file's folder when it came from there. */
  commandDir(key: keyof RuntimeFlags): string;
}

/**
 * A runtime as the CLI and a run know it, registered in runtime/index.ts: its flags, its settings
 * (parsed and validated here, from the run's flags), what differs by runtime, and how to start it.
 * A new runtime (Docker Swarm, say) is one of these plus its Runtime.
 */
export interface RuntimeModule<S> {
  /** What users type after --runtime. */
  name: string;
  /** The flags only this runtime takes, in the flag table's format. */
  flags: readonly FlagSpec[];
  /** The line that refuses its flags (`given`, by their long spelling) on a run of another runtime. */
  refuseFlags(given: readonly string[], runtime: string): string;
  /** How the user's own app is given on this runtime: the app flag it takes, if any, how to say so (`--app-cmd "COMMAND"`), and how it runs a replica (`as a process`). */
  app: { flag?: FlagSpec; usage: string; runs?: string };
  traits: RuntimeTraits;
  /** Its settings from the run's flags (and HACTL_* variables), or a UsageError naming the flag. */
  parse(flags: RuntimeFlags, env: NodeJS.ProcessEnv): S;
  /** Its settings completed once the app profile and the config file are known. */
  complete?(settings: S, context: RuntimeContext): S;
  report?(settings: S): RuntimeReport;
  /** The report's balancer, when it is not one hactl started. */
  balancer?(settings: S, healthPath: string): OwnBalancerSummary;
  /** What is checked rather than started as a scenario begins (a deployment's health URL). */
  checking?(settings: S, healthPath: string): string;
  create(options: RuntimeOptions<S>): Promise<Runtime>;
}

/** The run's runtime: its module with its settings bound, so that nothing above needs to know which it is. */
export interface ChosenRuntime extends RuntimeTraits {
  name: string;
  /** Its parsed settings, as its module typed them. */
  settings: unknown;
  complete(context: RuntimeContext): ChosenRuntime;
  report(): RuntimeReport;
  balancer(healthPath: string): OwnBalancerSummary | undefined;
  checking(healthPath: string): string | undefined;
  create(options: Omit<RuntimeOptions<unknown>, 'settings'>): Promise<Runtime>;
}

/** A runtime as the registry holds it: its module's declarations, and a parse that binds its settings. */
export interface RegisteredRuntime extends Pick<RuntimeModule<unknown>, 'name' | 'flags' | 'refuseFlags' | 'app' | 'traits'> {
  parse(flags: RuntimeFlags, env: NodeJS.ProcessEnv): ChosenRuntime;
}

export function registerRuntime<S>(module: RuntimeModule<S>): RegisteredRuntime {
  const { name, flags, refuseFlags, app, traits } = module;
  return { name, flags, refuseFlags, app, traits, parse: (runFlags, env) => chooseRuntime(module, module.parse(runFlags, env)) };
}

export function chooseRuntime<S>(module: RuntimeModule<S>, settings: S): ChosenRuntime {
  return {
    name: module.name,
    ...module.traits,
    settings,
    complete: (context) => chooseRuntime(module, module.complete ? module.complete(settings, context) : settings),
    report: () => module.report?.(settings) ?? {},
    balancer: (healthPath) => module.balancer?.(settings, healthPath),
    checking: (healthPath) => module.checking?.(settings, healthPath),
    create: (options) => module.create({ ...options, settings }),
  };
}

export interface RuntimeOptions<S> {
  runId: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** The runtime's own settings, as its module parsed them. */
  settings: S;
  /** How many replicas the cluster has (the external runtime cannot count them). */
  replicas?: number;
  /** Lines worth showing while the runtime prepares (image pulls and builds). */
  onProgress?(line: string): void;
  /** --rate: the run's limiter. The external runtime's own probes of the deployment take a slot from it too. */
  limiter?: RateLimiter;
  /** What the run will ask of the runtime; absent, the runtime prepares for anything. */
  needs?: RunNeeds;
}

/**
 * What a run will start, known before it starts anything: a runtime that has to fetch things
 * (the docker runtime's images) gets them all once, up front, and only those the run uses.
 */
export interface RunNeeds {
  /** One cluster plan per strategy of the run: its app, balancer and store. */
  topologies: readonly Topology[];
  /** A scenario puts the fault proxy in front of a store node. */
  storeProxy: boolean;
}

/** The fault proxy in front of a store node: the URL replicas use instead of the node's, and its toxics. */
export interface StoreProxy {
  url: string;
  setToxic(toxic: Toxic | undefined): Promise<void>;
  stop(): Promise<void>;
}

/** Turns topologies into running things. One interface, one file per backend. */
export interface Runtime {
  name: string;
  /** True when hactl starts nothing and the cluster is a deployment that exists already: its start is its target answering, its balancer's checks are its own. */
  startsNothing?: boolean;
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
  /** How long starting a killed replica again may take (its readiness bound): what a restart's deadline allows for it. */
  replicaStartBoundMs?: number;
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
