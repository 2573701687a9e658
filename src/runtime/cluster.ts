import type { Balancer } from '../balancer/index.js';
import { EnvironmentError } from '../platform/errors.js';
import type { Cluster } from './runtime.js';

/** What a runtime can do to one of its replicas: a process, a container, ... */
export interface ReplicaControl {
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again after a kill and resolves once it answers. */
  start(): Promise<void>;
  pause(): Promise<void>;
  unpause(): Promise<void>;
}

/** A cluster from a balancer and the controls of its replicas; every runtime's faults share these semantics. */
export function assembleCluster(balancer: Balancer, replicas: ReadonlyMap<string, ReplicaControl>, stop: () => Promise<void>, replicaStartBoundMs?: number): Cluster {
  const replica = (replicaId: string) => {
    const found = replicas.get(replicaId);
    if (!found) throw new EnvironmentError(`no replica named ${replicaId} in this cluster`);
    return found;
  };
  return {
    balancerUrl: balancer.url,
    replicaIds: [...replicas.keys()],
    ...(balancer.directTargets ? { directTargets: balancer.directTargets } : {}),
    ...(replicaStartBoundMs !== undefined ? { replicaStartBoundMs } : {}),
    async killReplica(replicaId, signal) {
      const at = Date.now();
      await replica(replicaId).kill(signal);
      return { at };
    },
    startReplica: (replicaId) => replica(replicaId).start(),
    async pauseReplica(replicaId) {
      const at = Date.now();
      await replica(replicaId).pause();
      return { at };
    },
    unpauseReplica: (replicaId) => replica(replicaId).unpause(),
    waitForReplicaHealth: (replicaId, healthy, timeoutMs, signal) => balancer.waitForHealth(replicaId, healthy, timeoutMs, signal),
    healthChanges: (since) => balancer.healthChanges(since),
    deregisterReplica: (replicaId) => {
      replica(replicaId);
      return balancer.deregister(replicaId);
    },
    registerReplica: (replicaId) => {
      replica(replicaId);
      return balancer.register(replicaId);
    },
    failure: () => balancer.failure(),
    stop,
  };
}
