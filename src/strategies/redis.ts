import { isSentinelUrl, parseSentinelUrl } from '../app/stores/sentinel-url.js';
import { defineStrategy, storeUrlField, type ReplicaWiring } from './descriptor.js';

/** The port a redis:// URL without one means. */
const REDIS_DEFAULT_PORT = '6379';

// A Sentinel URL names no one server: redis:sentinel's apps get {redisSentinels} and {redisMasterName} instead.
const address = ({ storeUrl }: ReplicaWiring) => (storeUrl && !isSentinelUrl(storeUrl) ? new URL(storeUrl) : undefined);
const sentinel = ({ storeUrl }: ReplicaWiring) => (isSentinelUrl(storeUrl) ? parseSentinelUrl(storeUrl!) : undefined);

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
    { name: 'sentinel', summary: 'as replica, plus three Sentinels that decide the failover; the app finds the primary through them (self-managed Redis)', persistence: 'none', replication: 'async' },
  ],
  store: 'redis',
  storeOptions: (variant) => ({
    ...(variant.persistence ? { persistence: variant.persistence } : {}),
    // One replica and the fast profile until the run's --store-replicas and --failover-profile say otherwise (topology/plan.ts).
    ...(variant.replication ? { replication: { replicas: 1, mode: variant.replication, profile: 'fast', ...(variant.name === 'sentinel' ? { decidedBy: 'sentinel' as const } : {}) } } : {}),
  }),
  appStore: 'redis',
  appSettings: (variant) => (variant.replication === 'sync' ? { waitForReplicas: 1 } : {}),
  sticky: false,
  // Host and port apart too, for apps (PHP's redis session handler) configured by address rather than URL.
  replicaFields: [
    storeUrlField('redisUrl'),
    { name: 'redisHost', value: (wiring) => address(wiring)?.hostname ?? '' },
    { name: 'redisPort', value: port },
    // redis:sentinel: the Sentinels as host:port,host:port,host:port, and the name they know the primary by.
    { name: 'redisSentinels', value: (wiring) => sentinel(wiring)?.sentinels.map(({ host, port: at }) => `${host}:${at}`).join(',') ?? '' },
    { name: 'redisMasterName', value: (wiring) => sentinel(wiring)?.masterName ?? '' },
    // redis:replica, redis:replica-wait: the reader endpoint (a replica), for an app that reads sessions there (replica-reads).
    { name: 'redisReaderUrl', value: (wiring) => wiring.readerUrl ?? '' },
  ],
  faultTargets: ['replica', 'store'],
  pricing: ['redis'],
  // A store restart that loses sessions says whether it ran without persistence.
  figures: (variant) => (variant.persistence ? { persistence: variant.persistence } : {}),
});
