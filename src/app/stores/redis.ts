import { RedisStore } from 'connect-redis';
import { createClient, createSentinel } from 'redis';
import type { AppConfig } from '../config.js';
import { isSentinelUrl, parseSentinelUrl } from './sentinel-url.js';
import type { OpenedStore } from './types.js';

/** Every client's socket: a connect bounded at 2 s, reconnects backing off from 50 ms to 1 s. */
const SOCKET = { connectTimeout: 2_000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000) };

/** connect-redis over node-redis: what Spring Session Data Redis is to a Spring app. */
export async function openStore(config: AppConfig): Promise<OpenedStore> {
  if (isSentinelUrl(config.storeUrl)) return openThroughSentinel(config);
  const client = createClient({
    url: config.storeUrl,
    // Without this, commands queue while Redis is down and requests hang instead of failing.
    disableOfflineQueue: true,
    socket: SOCKET,
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

/**
 * The store's reader endpoint (a replica), read only: connect-redis's GET of the session there.
 * A replica refuses writes, so express-session's touch is made a no-op: reading must not write.
 */
export async function openReaderStore(config: AppConfig, url: string): Promise<OpenedStore> {
  const client = createClient({ url, disableOfflineQueue: true, socket: SOCKET });
  client.on('error', () => {});
  await client.connect();
  const store = new RedisStore({ client, prefix: 'hactl:sess:', ttl: config.ttlSeconds });
  store.touch = async (_sid, _sess, cb) => cb?.();
  return {
    store,
    close: async () => {
      client.destroy();
    },
  };
}

/**
 * The self-managed way: node-redis's own Sentinel client asks the Sentinels where the primary is
 * and moves to the new one when they announce +switch-master, without any endpoint of hactl's.
 */
async function openThroughSentinel(config: AppConfig): Promise<OpenedStore> {
  const url = parseSentinelUrl(config.storeUrl!);
  const mapped = Object.keys(url.map).length > 0;
  // node-redis reopens the primary's client at a rediscovery whenever its own is not ready (and,
  // with a map, at every one: see scanInterval), and a client's connect() retries until its node
  // answers. The first request after a primary's kill rediscovers before the Sentinels hold it
  // down, so it opened a client to the dead node, and every request of this replica waited on that
  // connect until the node came back: for ever under compose, and in a hactl run until hactl
  // restarted the old node (its wait counted as the store's unavailability). Giving up after 4 attempts
  // (0.35 s when refused, up to 8 s when each waits out connectTimeout) fails that rediscovery,
  // and node-redis tries again a second later, until the Sentinels name the promoted node. Each
  // failed one prints its error to stdout (node-redis's console.log): noise, not a fault.
  const nodeSocket = { ...SOCKET, reconnectStrategy: (retries: number) => (retries >= 3 ? new Error('the Redis node did not answer 4 connection attempts') : SOCKET.reconnectStrategy(retries)) };
  const sentinel = createSentinel({
    name: url.masterName,
    sentinelRootNodes: url.sentinels,
    ...(mapped ? { nodeAddressMap: (address: string) => url.map[address] } : {}),
    // A node connection that is down fails its commands, as the direct client does; but while the
    // Sentinel client knows no primary (from the old one's death to +switch-master) it holds
    // commands until it learns one, so a request waits rather than fails, bounded by the caller's
    // own timeout (hactl's --request-timeout): the README says so of this variant's error counts.
    nodeClientOptions: { disableOfflineQueue: true, socket: nodeSocket },
    sentinelClientOptions: { socket: SOCKET },
    masterPoolSize: 1,
    // A missed +switch-master is caught by the next scan; the default 10 s would be the outage. Not
    // with a map: node-redis 5 compares the primary the Sentinels name with its own client's
    // mapped address, so every scan takes the primary for a new one and reconnects (requests then
    // waited seconds behind the reconnections); it still follows the Sentinels' events and its own
    // failed commands.
    scanInterval: mapped ? 0 : 1_000,
  });
  sentinel.on('error', () => {});
  await sentinel.connect();
  const options = { client: sentinel as unknown as ReturnType<typeof createClient>, prefix: 'hactl:sess:', ttl: config.ttlSeconds };
  return {
    store: new RedisStore(options),
    close: async () => {
      sentinel.destroy();
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
