import type { HealthChange } from '../balancer/index.js';
import type { StoreModule, Availability, RunningStore } from '../stores/store.js';
import type { Topology } from '../topology/plan.js';

export const RUNTIME_NAMES = ['local'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/** Turns topologies into running things. One interface, one file per backend. */
export interface Runtime {
  name: RuntimeName;
  checkStore(store: StoreModule): Promise<Availability>;
  startStore(store: StoreModule): Promise<RunningStore>;
  startCluster(topology: Topology, store: RunningStore | undefined): Promise<Cluster>;
  /** Stops everything this runtime started, whatever state it is in. */
  close(): Promise<void>;
}

/** A running topology: the balancer's address, and the faults a scenario may inject. */
export interface Cluster {
  balancerUrl: string;
  replicaIds: readonly string[];
  /** Kills a replica's process with `signal`; resolves once it is gone, with the moment it was sent. */
  killReplica(replicaId: string, signal: NodeJS.Signals): Promise<{ at: number }>;
  waitForReplicaHealth(replicaId: string, healthy: boolean, timeoutMs: number, signal?: AbortSignal): Promise<HealthChange>;
  /** Why the cluster stopped working on its own (its balancer died), if it did. */
  failure(): string | undefined;
  stop(): Promise<void>;
}
