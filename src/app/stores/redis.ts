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
  const options = { client, prefix: 'hactl:sess:', ttl: config.ttlSeconds };
  return {
    store: config.waitForReplicas > 0 ? new WaitingRedisStore(options, client, config.waitForReplicas, config.waitTimeoutMs) : new RedisStore(options),
    close: async () => {
      client.destroy();
    },
  };
}

type Callback = (error?: unknown) => void;

/**
 * A session write acknowledged only once `replicas` replicas have it (Redis WAIT), as an app
 * does that will not lose an acknowledged session to a failover: a write that no replica took in
 * time fails the request instead.
 */
class WaitingRedisStore extends RedisStore {
  constructor(
    options: ConstructorParameters<typeof RedisStore>[0],
    private readonly redis: ReturnType<typeof createClient>,
    private readonly replicas: number,
    private readonly timeoutMs: number,
  ) {
    super(options);
  }

  override async set(sid: string, sess: Parameters<RedisStore['set']>[1], cb?: Callback): Promise<void> {
    await this.replicated((done) => super.set(sid, sess, done), cb);
  }

  override async destroy(sid: string, cb?: Callback): Promise<void> {
    await this.replicated((done) => super.destroy(sid, done), cb);
  }

  private async replicated(write: (done: Callback) => Promise<unknown>, cb?: Callback): Promise<void> {
    const failed = await new Promise<unknown>((resolve) => void write((error) => resolve(error ?? undefined)));
    if (failed) return cb?.(failed);
    try {
      const acknowledged = Number(await this.redis.sendCommand(['WAIT', String(this.replicas), String(this.timeoutMs)]));
      cb?.(acknowledged >= this.replicas ? undefined : new Error(`the session write reached ${acknowledged} of ${this.replicas} replicas within ${this.timeoutMs} ms`));
    } catch (error) {
      cb?.(error);
    }
  }
}
