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
  ],
  store: 'redis',
  storeOptions: (variant) => (variant.persistence ? { persistence: variant.persistence } : {}),
  appStore: 'redis',
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
