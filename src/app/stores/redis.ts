import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import type { AppConfig } from '../config.js';
import type { OpenedStore } from './types.js';

/** connect-redis over node-redis: what Spring Session Data Redis is to a Spring app. */
export async function openStore(config: AppConfig): Promise<OpenedStore> {
  const client = createClient({
    url: config.storeUrl,
    // Without this, commands queue while Redis is down and requests hang instead of failing.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000) },
  });
  // A lost connection is reported on each failing request; the client reconnects on its own.
  client.on('error', () => {});
  await client.connect();
  return {
    store: new RedisStore({ client, prefix: 'hactl:sess:', ttl: config.ttlSeconds }),
    close: async () => {
      client.destroy();
    },
  };
}
