import { randomBytes } from 'node:crypto';
import type { SessionStoreKind } from '../app/config.js';
import {
  ALB_APP_COOKIE_NAME,
  ALB_CONNECT_TIMEOUT_MS,
  ALB_COOKIE_NAME,
  ALB_DEFAULT_STICKINESS_SECONDS,
  ALB_DEREGISTRATION_DELAY_MS,
  ALB_HEALTH_CHECK,
  FAST_CONNECT_TIMEOUT_MS,
  FAST_DEREGISTRATION_DELAY_MS,
  FAST_HEALTH_CHECK,
  type Algorithm,
  type BalancerProfile,
  type BalancerSettings,
  type BalancerTarget,
  type HealthCheckSettings,
  type Stickiness,
} from '../balancer/settings.js';
import { strategyRegistry, type StrategyRegistry } from '../strategies.js';
import type { ReplicaAddress } from '../strategies/descriptor.js';
import type { StrategyChoice } from '../strategies/registry.js';
import type { FailoverProfileName, StoreName, StoreOptions } from '../stores/store.js';

/** Which balancer fronts the replicas: hactl's own, or a real HAProxy to cross-check it. */
export const BALANCER_KINDS = ['hactl', 'haproxy'] as const;
export type BalancerKind = (typeof BALANCER_KINDS)[number];

/** Demo app settings a scenario may change (its `app:` block); absent ones keep the app's defaults. */
export interface AppSettings {
  /** express-session's `resave`: write the session back on every request, modified or not. */
  resave?: boolean;
  /** The idle timeout; the app's default is Spring Session's 30 minutes. */
  sessionTtlSeconds?: number;
  /** A new session id at login (the default); off is the session-fixation weakness, for the security scenario to find. */
  regenerateOnLogin?: boolean;
  /** After each session write, wait until this many store replicas have it, or fail (a strategy variant's, redis:replica-wait). */
  waitForReplicas?: number;
}

/** The user's own app in place of the demo app (--app-cmd or --app-image, with --app-env). */
export interface CustomApp {
  /** A shell command that starts one replica; its `{field}`s are filled per replica (replicaTemplateValues). */
  command?: string;
  /** Where the command runs: the config file's folder when it came from one, else hactl's working directory. */
  cwd?: string;
  /** An image whose containers are the replicas. */
  image?: string;
  /** Environment variables for every replica, templated the same way. */
  env: Record<string, string>;
  /** A path that answers 2xx once a replica is ready. */
  healthPath: string;
  /** The port the app listens on inside its container; absent, the runtime reads the image's EXPOSEd port (8080 without one). */
  containerPort?: number;
  /** How long a replica may take to answer its health path with 2xx (--startup-timeout). */
  startupTimeoutMs?: number;
}

/** The plan of one cluster: pure data that a runtime turns into running things. */
export interface Topology {
  /** The row label: `redis`, `redis:aof-always`, `sticky:app_cookie`. */
  strategy: string;
  /** The strategy the label names, whose descriptor says how replicas are wired to it. */
  strategyName: string;
  replicas: ReplicaPlan[];
  app: AppSettings & {
    sessionStore: SessionStoreKind;
    cookieName: string;
    /** Shared by every replica, so a cookie signed by one verifies on all. */
    secret: string;
    /** Present when the replicas run the user's app instead of the demo app. */
    custom?: CustomApp;
  };
  store?: StoreName;
  storeOptions: StoreOptions;
  balancer: {
    kind: BalancerKind;
    profile: BalancerProfile;
    port: number;
    algorithm: Algorithm;
    stickiness: Stickiness;
    healthCheck: HealthCheckSettings;
    upstreamTimeoutMs: number;
    connectTimeoutMs: number;
    deregistrationDelayMs: number;
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
  balancer?: BalancerKind;
  profile?: BalancerProfile;
  algorithm?: Algorithm;
  /** Overrides the profile's. */
  deregistrationDelayMs?: number;
  app?: AppSettings;
  /** The app's session cookie (its profile's), which app_cookie stickiness follows. */
  cookieName?: string;
  /**
   * The app profile's health path, which the balancer's health checks probe. A check of a path
   * the app does not serve fails on every target from the start: the balancer then fails open
   * and never takes a dead replica out, and every failover figure is wrong.
   */
  healthPath?: string;
  custom?: CustomApp;
  /** How a replicated store variant runs: --store-replicas and --failover-profile. */
  store?: { replicas?: number; failoverProfile?: FailoverProfileName };
}

/**
 * What the balancer accepts from a health check: what an app profile promises of its health
 * path (2xx once ready), the same rule the runtimes' readiness probes apply.
 */
export const PROFILE_HEALTH_MATCHER = '200-299';

/** ALB's own defaults, or the same state machine at test speed (`--balancer-profile`). */
export const BALANCER_PROFILE_SETTINGS: Record<BalancerProfile, { healthCheck: HealthCheckSettings; connectTimeoutMs: number; deregistrationDelayMs: number }> = {
  fast: { healthCheck: FAST_HEALTH_CHECK, connectTimeoutMs: FAST_CONNECT_TIMEOUT_MS, deregistrationDelayMs: FAST_DEREGISTRATION_DELAY_MS },
  alb: { healthCheck: ALB_HEALTH_CHECK, connectTimeoutMs: ALB_CONNECT_TIMEOUT_MS, deregistrationDelayMs: ALB_DEREGISTRATION_DELAY_MS },
};

export const DEFAULT_COOKIE_NAME = 'JSESSIONID';
/** The demo app's health path, and an app profile's default. */
export const DEFAULT_HEALTH_PATH = '/health';

export function planTopology(choice: StrategyChoice, options: TopologyOptions, secret = randomBytes(24).toString('base64url')): Topology {
  const { strategy, variant } = choice;
  const profile = options.profile ?? 'fast';
  return {
    strategy: choice.label,
    strategyName: strategy.name,
    replicas: Array.from({ length: options.replicas }, (_, i) => ({ id: replicaId(i + 1), ordinal: i + 1 })),
    app: {
      sessionStore: strategy.appStore,
      cookieName: options.cookieName ?? DEFAULT_COOKIE_NAME,
      secret,
      ...options.app,
      ...strategy.appSettings?.(variant),
      ...(options.custom ? { custom: options.custom } : {}),
    },
    store: strategy.store,
    storeOptions: storeOptionsFor(strategy.storeOptions?.(variant) ?? {}, options.store),
    balancer: {
      kind: options.balancer ?? 'hactl',
      profile,
      port: options.balancerPort,
      algorithm: options.algorithm ?? 'round_robin',
      stickiness: stickinessFor(choice, options.cookieName ?? DEFAULT_COOKIE_NAME),
      upstreamTimeoutMs: options.upstreamTimeoutMs ?? 5_000,
      ...BALANCER_PROFILE_SETTINGS[profile],
      healthCheck: { ...BALANCER_PROFILE_SETTINGS[profile].healthCheck, path: options.healthPath ?? DEFAULT_HEALTH_PATH, matcher: PROFILE_HEALTH_MATCHER },
      ...(options.deregistrationDelayMs !== undefined ? { deregistrationDelayMs: options.deregistrationDelayMs } : {}),
    },
  };
}

/** The variant's store options, with the run's replica count and failover profile for a replicated one. */
function storeOptionsFor(base: StoreOptions, run: TopologyOptions['store']): StoreOptions {
  if (!base.replication || !run) return base;
  return { ...base, replication: { ...base.replication, ...(run.replicas !== undefined ? { replicas: run.replicas } : {}), ...(run.failoverProfile ? { profile: run.failoverProfile } : {}) } };
}

function stickinessFor({ strategy, variant }: StrategyChoice, appCookieName: string): Stickiness {
  if (!strategy.sticky) return { type: 'off' };
  if (variant.stickiness === 'app_cookie') {
    return { type: 'app_cookie', appCookieName, cookieName: ALB_APP_COOKIE_NAME, durationSeconds: ALB_DEFAULT_STICKINESS_SECONDS };
  }
  return { type: 'lb_cookie', cookieName: ALB_COOKIE_NAME, durationSeconds: ALB_DEFAULT_STICKINESS_SECONDS };
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
  /** The store's reader endpoint (a replica), when it has one: the demo app reads sessions there on its replica route. */
  readerUrl?: string,
): Record<string, string> {
  return {
    HACTL_REPLICA_ID: replica.id,
    HOST: listen.host,
    PORT: String(listen.port),
    HACTL_SESSION_STORE: topology.app.sessionStore,
    HACTL_STORE_URL: storeUrl ?? '',
    HACTL_SESSION_SECRET: topology.app.secret,
    HACTL_COOKIE_NAME: topology.app.cookieName,
    ...(topology.app.resave !== undefined ? { HACTL_SESSION_RESAVE: String(topology.app.resave) } : {}),
    ...(topology.app.sessionTtlSeconds !== undefined ? { HACTL_SESSION_TTL_SECONDS: String(topology.app.sessionTtlSeconds) } : {}),
    ...(topology.app.regenerateOnLogin !== undefined ? { HACTL_SESSION_REGENERATE: String(topology.app.regenerateOnLogin) } : {}),
    ...(topology.app.waitForReplicas !== undefined ? { HACTL_STORE_WAIT_REPLICAS: String(topology.app.waitForReplicas) } : {}),
    ...(readerUrl ? { HACTL_STORE_READER_URL: readerUrl } : {}),
  };
}

/** The `{field}`s every strategy fills: where a replica listens, who it is, and its store's URL. */
const COMMON_REPLICA_FIELDS = ['port', 'host', 'replica', 'strategy', 'storeUrl'] as const;

/** The `{field}`s of --app-cmd and --app-env: the common ones, then those the strategies declare. */
export function replicaTemplateFields(registry: StrategyRegistry = strategyRegistry): string[] {
  return [...COMMON_REPLICA_FIELDS, ...registry.replicaFields.map((field) => field.name)];
}

export const REPLICA_TEMPLATE_FIELDS: readonly string[] = replicaTemplateFields();

/** `{port}, {host}, …`: the field list as help text names it. */
export function replicaFieldsHelp(registry: StrategyRegistry = strategyRegistry): string {
  return replicaTemplateFields(registry).map((field) => `{${field}}`).join(', ');
}

/**
 * The values of those fields for one replica. The fields of a strategy other than the
 * topology's are empty, so one command can serve every strategy (a launcher that picks file
 * sessions when {redisUrl} is empty, say). `peers` are the other replicas, for a strategy whose
 * replicas must know each other.
 */
export function replicaTemplateValues(
  topology: Topology,
  replica: ReplicaPlan,
  listen: { host: string; port: number },
  storeUrl: string | undefined,
  peers: readonly ReplicaAddress[] = [],
  registry: StrategyRegistry = strategyRegistry,
  /** The store's reader endpoint, when it has one ({redisReaderUrl}, {postgresReaderUrl}). */
  readerUrl?: string,
): Record<string, string> {
  const own = registry.named(topology.strategyName);
  const wiring = { storeUrl, peers, ...(readerUrl ? { readerUrl } : {}) };
  const values: Record<string, string> = {
    port: String(listen.port),
    host: listen.host,
    replica: replica.id,
    strategy: topology.strategy,
    storeUrl: storeUrl ?? '',
  };
  for (const field of registry.replicaFields) values[field.name] = '';
  for (const field of own?.replicaFields ?? []) values[field.name] = field.value(wiring);
  return values;
}

/** A `{field}`, or an escaped brace (`{{`, `}}`), in a --app-cmd, --app-env or fault command template. */
const REPLICA_FIELD = /\{\{|\}\}|\{([A-Za-z]+)\}/g;

/** `{field}` filled from `values`; `{{` and `}}` stand for literal braces. */
export function fillReplicaTemplate(template: string, values: Record<string, string>): string {
  return template.replace(REPLICA_FIELD, (whole, field: string | undefined) => (field === undefined ? whole[0]! : (values[field] ?? whole)));
}

/** Unknown `{field}`s in a --app-cmd, --app-env or fault command template, for a usage error before anything starts. */
export function unknownReplicaFields(template: string, allowed: readonly string[] = REPLICA_TEMPLATE_FIELDS): string[] {
  return [...template.matchAll(REPLICA_FIELD)].flatMap((match) => (match[1] !== undefined && !allowed.includes(match[1]) ? [match[1]] : []));
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
    deregistrationDelayMs: topology.balancer.deregistrationDelayMs,
  };
}
