import { defineStrategy, storeUrlField, type ReplicaWiring } from './descriptor.js';

/** The port a redis:// URL without one means. */
const REDIS_DEFAULT_PORT = '6379';

const address = ({ storeUrl }: ReplicaWiring) => (storeUrl ? new URL(storeUrl) : undefined);

function port(wiring: ReplicaWiring): string {
  const url = address(wiring);
  return url ? url.port || REDIS_DEFAULT_PORT : '';
}

/** Sessions in one Redis server (ElastiCache), behind round robin; its variants are Redis's persistence modes. */
export const redis = defineStrategy({
  name: 'redis',
  summary: 'sessions in Redis (ElastiCache), round robin',
  variants: [
    { name: 'none', summary: 'no persistence: a restart loses everything', persistence: 'none' },
    { name: 'aof-everysec', summary: 'append-only file, fsync every second', persistence: 'aof-everysec' },
    { name: 'aof-always', summary: 'append-only file, fsync on every write', persistence: 'aof-always' },
    { name: 'replica', summary: 'a primary and replicas (--store-replicas), asynchronous replication, failover to a replica (ElastiCache Multi-AZ)', persistence: 'none', replication: 'async' },
    { name: 'replica-wait', summary: 'as replica, but the app waits (WAIT 1) until a replica has each session write', persistence: 'none', replication: 'sync' },
  ],
  store: 'redis',
  storeOptions: (variant) => ({
    ...(variant.persistence ? { persistence: variant.persistence } : {}),
    // One replica and the fast profile until the run's --store-replicas and --failover-profile say otherwise (topology/plan.ts).
    ...(variant.replication ? { replication: { replicas: 1, mode: variant.replication, profile: 'fast' } } : {}),
  }),
  appStore: 'redis',
  appSettings: (variant) => (variant.replication === 'sync' ? { waitForReplicas: 1 } : {}),
  sticky: false,
  // Host and port apart too, for apps (PHP's redis session handler) configured by address rather than URL.
  replicaFields: [
    storeUrlField('redisUrl'),
    { name: 'redisHost', value: (wiring) => address(wiring)?.hostname ?? '' },
    { name: 'redisPort', value: port },
  ],
  faultTargets: ['replica', 'store'],
  pricing: ['redis'],
  // A store restart that loses sessions says whether it ran without persistence.
  figures: (variant) => (variant.persistence ? { persistence: variant.persistence } : {}),
});
