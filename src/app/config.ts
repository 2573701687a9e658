import { SESSION_STORE_KINDS, type SessionStoreKind } from './stores/index.js';
import { isSentinelUrl, parseSentinelUrl } from './stores/sentinel-url.js';

export type { SessionStoreKind } from './stores/index.js';

/** The demo app's settings, read from its environment: hactl (or a user) sets them per replica. */
export interface AppConfig {
  replicaId: string;
  host: string;
  port: number;
  store: SessionStoreKind;
  storeUrl?: string;
  /**
   * The store's reader endpoint (a replica: ElastiCache's reader endpoint, a hot standby), when
   * it has one: GET /counter/replica reads the session there; writes always go to storeUrl.
   */
  readerUrl?: string;
  secret: string;
  cookieName: string;
  ttlSeconds: number;
  /** express-session's `resave`: off, as its docs advise; on, the race it invites can be measured. */
  resave: boolean;
  /**
   * A new session id at login (OWASP's defence against fixation). Off only to show what the
   * security scenario's fixation check catches: the pre-login session is kept, the user set on it.
   */
  regenerateOnLogin: boolean;
  /** How long start-up keeps trying to reach the session store. */
  storeConnectTimeoutMs: number;
  /** After each session write, wait until this many store replicas have it (Redis WAIT), or fail the request; 0: do not wait. */
  waitForReplicas: number;
  /** How long that wait may take. */
  waitTimeoutMs: number;
}

export function readAppConfig(env: NodeJS.ProcessEnv): AppConfig {
  const store = (env.HACTL_SESSION_STORE ?? 'memory') as SessionStoreKind;
  if (!SESSION_STORE_KINDS.includes(store)) throw new Error(`HACTL_SESSION_STORE must be one of ${SESSION_STORE_KINDS.join(', ')}, got "${store}"`);
  if (store !== 'memory' && !env.HACTL_STORE_URL) throw new Error(`HACTL_STORE_URL is required for the ${store} session store`);
  // A Sentinel URL (redis:sentinel) is checked at start-up, not at the first request.
  if (isSentinelUrl(env.HACTL_STORE_URL)) {
    if (store !== 'redis') throw new Error(`HACTL_STORE_URL is a Sentinel URL, which only the redis session store reads; HACTL_SESSION_STORE is "${store}"`);
    parseSentinelUrl(env.HACTL_STORE_URL!);
  }
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return {
    replicaId: env.HACTL_REPLICA_ID ?? 'replica-1',
    host: env.HOST ?? '127.0.0.1',
    port,
    store,
    storeUrl: env.HACTL_STORE_URL,
    ...(env.HACTL_STORE_READER_URL ? { readerUrl: env.HACTL_STORE_READER_URL } : {}),
    // Every replica must share one secret, or a cookie signed by one is rejected by the others.
    secret: env.HACTL_SESSION_SECRET ?? 'hactl-demo-secret',
    // Spring's servlet containers call it JSESSIONID; the write-up hactl grew from tested a Spring app.
    cookieName: env.HACTL_COOKIE_NAME ?? 'JSESSIONID',
    // Spring Session's default idle timeout: 30 minutes.
    ttlSeconds: Number(env.HACTL_SESSION_TTL_SECONDS ?? 1800),
    resave: env.HACTL_SESSION_RESAVE === 'true',
    regenerateOnLogin: env.HACTL_SESSION_REGENERATE !== 'false',
    storeConnectTimeoutMs: Number(env.HACTL_STORE_CONNECT_TIMEOUT_MS ?? 30_000),
    waitForReplicas: Number(env.HACTL_STORE_WAIT_REPLICAS ?? 0),
    // Beyond a replication delay of seconds; a request that waits longer fails rather than lies.
    waitTimeoutMs: Number(env.HACTL_STORE_WAIT_TIMEOUT_MS ?? 5_000),
  };
}
