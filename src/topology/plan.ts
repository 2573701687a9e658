import { randomBytes } from 'node:crypto';
import type { SessionStoreKind } from '../app/config.js';
import {
  ALB_COOKIE_NAME,
  ALB_DEFAULT_STICKINESS_SECONDS,
  FAST_CONNECT_TIMEOUT_MS,
  FAST_HEALTH_CHECK,
  type Algorithm,
  type BalancerSettings,
  type BalancerTarget,
  type HealthCheckSettings,
  type Stickiness,
} from '../balancer/settings.js';
import type { Strategy } from '../strategies.js';
import type { StoreName } from '../stores/store.js';

/** The plan of one cluster: pure data that a runtime turns into running things. */
export interface Topology {
  strategy: Strategy['name'];
  replicas: ReplicaPlan[];
  app: {
    sessionStore: SessionStoreKind;
    cookieName: string;
    /** Shared by every replica, so a cookie signed by one verifies on all. */
    secret: string;
  };
  store?: StoreName;
  balancer: {
    port: number;
    algorithm: Algorithm;
    stickiness: Stickiness;
    healthCheck: HealthCheckSettings;
    upstreamTimeoutMs: number;
    connectTimeoutMs: number;
  };
}

export interface ReplicaPlan {
  id: string;
  /** 1-based, as people count replicas. */
  ordinal: number;
}

export interface TopologyOptions {
  replicas: number;
  balancerPort: number;
  upstreamTimeoutMs?: number;
}

export function planTopology(strategy: Strategy, options: TopologyOptions, secret = randomBytes(24).toString('base64url')): Topology {
  return {
    strategy: strategy.name,
    replicas: Array.from({ length: options.replicas }, (_, i) => ({ id: replicaId(i + 1), ordinal: i + 1 })),
    app: { sessionStore: strategy.appStore, cookieName: 'JSESSIONID', secret },
    store: strategy.store,
    balancer: {
      port: options.balancerPort,
      algorithm: 'round_robin',
      stickiness: strategy.sticky
        ? { type: 'lb_cookie', cookieName: ALB_COOKIE_NAME, durationSeconds: ALB_DEFAULT_STICKINESS_SECONDS }
        : { type: 'off' },
      healthCheck: FAST_HEALTH_CHECK,
      upstreamTimeoutMs: options.upstreamTimeoutMs ?? 5_000,
      connectTimeoutMs: FAST_CONNECT_TIMEOUT_MS,
    },
  };
}

export function replicaId(ordinal: number): string {
  return `replica-${ordinal}`;
}

/** How a replica is told who it is, where to listen, and where its sessions live: the same on every runtime. */
export function replicaEnvironment(
  topology: Topology,
  replica: ReplicaPlan,
  listen: { host: string; port: number },
  storeUrl: string | undefined,
): Record<string, string> {
  return {
    HACTL_REPLICA_ID: replica.id,
    HOST: listen.host,
    PORT: String(listen.port),
    HACTL_SESSION_STORE: topology.app.sessionStore,
    HACTL_STORE_URL: storeUrl ?? '',
    HACTL_SESSION_SECRET: topology.app.secret,
    HACTL_COOKIE_NAME: topology.app.cookieName,
  };
}

/** The balancer's settings for this topology, listening on host:port in front of `targets`. */
export function balancerSettings(topology: Topology, listen: { host: string; port: number }, targets: BalancerTarget[]): BalancerSettings {
  return {
    host: listen.host,
    port: listen.port,
    targets,
    algorithm: topology.balancer.algorithm,
    stickiness: topology.balancer.stickiness,
    healthCheck: topology.balancer.healthCheck,
    upstreamTimeoutMs: topology.balancer.upstreamTimeoutMs,
    connectTimeoutMs: topology.balancer.connectTimeoutMs,
  };
}
