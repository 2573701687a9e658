import type { SessionStoreKind } from '../app/config.js';
import type { StoreName, StoreOptions } from '../stores/store.js';

/**
 * One session strategy, whole: everything hactl needs to plan, wire, break, price and report it.
 * Adding a strategy is one file that exports one of these, plus its line in ../strategies.ts
 * (and, for the demo app, a session store adapter in src/app/stores/).
 */
export interface StrategyDescriptor<Name extends string = string> {
  /** What users write in --strategy and what the report's rows are named. */
  name: Name;
  summary: string;
  /** Its options (DESIGN.md: "variants are options"), written `name:variant`; the first is the default. */
  variants: readonly StrategyVariant[];
  /** The store module the strategy needs started (src/stores/), if any. */
  store?: StoreName;
  /** How its store runs under a variant (Redis's persistence, say): what the store module starts. */
  storeOptions?(variant: StrategyVariant): StoreOptions;
  /** The session store the demo app opens for it; memory means each replica keeps its own. */
  appStore: SessionStoreKind;
  /** What the demo app must do differently under a variant (wait for a replica after each write, say). */
  appSettings?(variant: StrategyVariant): DemoAppStoreSettings;
  /** Whether the balancer pins a client to one replica; how is the variant's `stickiness`. */
  sticky: boolean;
  /**
   * How replicas are told where their sessions live, beyond the common fields: the `{field}`s it
   * adds to --app-cmd, --app-env and compose. Every field of every strategy is accepted in every
   * command and is empty when the strategy of the row is another one, so one command serves all.
   */
  replicaFields: readonly ReplicaField[];
  /** What the fault scenarios may break: a replica always, the store when there is one. */
  faultTargets: readonly FaultTarget[];
  /**
   * The priced instances (keys of a pricing file's `instances`) its row costs besides the
   * replicas' app instances: one entry per instance, so a three-node store lists its key three times.
   */
  pricing: readonly string[];
  /** Its figures beyond the common ones, for a variant: said in the comparison's sentences. */
  figures?(variant: StrategyVariant): StrategyFigures;
}

export interface StrategyVariant {
  name: string;
  summary: string;
  /** Redis persistence, as ElastiCache and self-run Redis offer it. */
  persistence?: RedisPersistence;
  /** Which ALB stickiness the balancer uses. */
  stickiness?: 'lb_cookie' | 'app_cookie';
  /** A replicated store (a primary, replicas, a failover): how writes reach the replicas. */
  replication?: 'async' | 'sync';
}

/** Demo app settings a strategy's variant asks for. */
export interface DemoAppStoreSettings {
  /** After each session write, wait until this many replicas have it (Redis WAIT), or fail the request. */
  waitForReplicas?: number;
}

export const REDIS_PERSISTENCE = ['none', 'aof-everysec', 'aof-always'] as const;
export type RedisPersistence = (typeof REDIS_PERSISTENCE)[number];

export type FaultTarget = 'replica' | 'store';

/** What a strategy's figures add to the comparison: today, the persistence a store restart ran with. */
export interface StrategyFigures {
  persistence?: RedisPersistence;
}

/** Where one replica's sessions live and who its peers are: what its `{field}`s are filled from. */
export interface ReplicaWiring {
  /** The store's URL as this replica reaches it; undefined without a store. */
  storeUrl: string | undefined;
  /**
   * The other replicas' addresses, for a strategy whose replicas talk to each other (in-memory
   * replication): empty unless the runtime that places the replicas gives them.
   */
  peers: readonly ReplicaAddress[];
  /** The store's reader endpoint as this replica reaches it (a replica of a replicated store); undefined without one. */
  readerUrl?: string;
}

export interface ReplicaAddress {
  id: string;
  host: string;
  port: number;
}

export interface ReplicaField {
  /** Written `{name}` in a template. */
  name: string;
  value(wiring: ReplicaWiring): string;
}

/** A descriptor, with its name kept as a literal type so that the registry can name its strategies. */
export function defineStrategy<Name extends string>(descriptor: StrategyDescriptor<Name>): StrategyDescriptor<Name> {
  return descriptor;
}

/** The field that carries the store's URL as is: `{redisUrl}`, `{postgresUrl}`. */
export function storeUrlField(name: string): ReplicaField {
  return { name, value: ({ storeUrl }) => storeUrl ?? '' };
}
