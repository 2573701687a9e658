import type { SessionStoreKind } from './app/config.js';
import type { StoreName } from './stores/store.js';
import { didYouMean } from './did-you-mean.js';

export const STRATEGY_NAMES = ['none', 'sticky', 'redis', 'postgres', 'mongo'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** How sessions persist, in the terms of DESIGN.md: where they live and whether the balancer pins clients. */
export interface Strategy {
  name: StrategyName;
  summary: string;
  /** The session store the app uses; memory means each replica keeps its own. */
  appStore: SessionStoreKind;
  /** The store server the strategy needs, if any. */
  store?: StoreName;
  sticky: boolean;
  /** Its options (DESIGN.md: "variants are options"), written `name:variant`; the first is the default. */
  variants: readonly StrategyVariant[];
}

export interface StrategyVariant {
  name: string;
  summary: string;
  /** Redis persistence, as ElastiCache and self-run Redis offer it. */
  persistence?: RedisPersistence;
  /** Which ALB stickiness the balancer uses. */
  stickiness?: 'lb_cookie' | 'app_cookie';
}

export const REDIS_PERSISTENCE = ['none', 'aof-everysec', 'aof-always'] as const;
export type RedisPersistence = (typeof REDIS_PERSISTENCE)[number];

export const strategies: Record<StrategyName, Strategy> = {
  none: { name: 'none', summary: 'per-replica memory, plain round robin', appStore: 'memory', sticky: false, variants: [{ name: 'default', summary: '' }] },
  sticky: {
    name: 'sticky',
    summary: 'per-replica memory, balancer cookie stickiness (ALB lb_cookie)',
    appStore: 'memory',
    sticky: true,
    variants: [
      { name: 'lb_cookie', summary: "the balancer's own cookie (AWSALB) pins the client", stickiness: 'lb_cookie' },
      { name: 'app_cookie', summary: "the balancer follows the app's cookie (AWSALBAPP)", stickiness: 'app_cookie' },
    ],
  },
  redis: {
    name: 'redis',
    summary: 'sessions in Redis (ElastiCache), round robin',
    appStore: 'redis',
    store: 'redis',
    sticky: false,
    variants: [
      { name: 'none', summary: 'no persistence: a restart loses everything', persistence: 'none' },
      { name: 'aof-everysec', summary: 'append-only file, fsync every second', persistence: 'aof-everysec' },
      { name: 'aof-always', summary: 'append-only file, fsync on every write', persistence: 'aof-always' },
    ],
  },
  postgres: {
    name: 'postgres',
    summary: 'sessions in PostgreSQL (RDS, Spring Session JDBC), round robin',
    appStore: 'postgres',
    store: 'postgres',
    sticky: false,
    variants: [{ name: 'default', summary: '' }],
  },
  mongo: { name: 'mongo', summary: 'sessions in MongoDB (DocumentDB), round robin', appStore: 'mongo', store: 'mongo', sticky: false, variants: [{ name: 'default', summary: '' }] },
};

/** A strategy with one of its variants chosen: what a row of the report is about. */
export interface StrategyChoice {
  strategy: Strategy;
  variant: StrategyVariant;
  /** How the report names it: `redis`, `redis:aof-always`, `sticky:app_cookie`. */
  label: string;
}

/** `redis`, `redis:aof-always`; an unknown name or variant is a one-line problem naming the choices. */
export function chooseStrategy(text: string): StrategyChoice | string {
  const [name, variantName, ...extra] = text.split(':');
  if (!(STRATEGY_NAMES as readonly string[]).includes(name!)) return `unknown strategy "${name}"${didYouMean(name!, STRATEGY_NAMES)}; expected one or more of ${STRATEGY_NAMES.join(', ')}, or all`;
  const strategy = strategies[name as StrategyName];
  const named = strategy.variants.filter((variant) => variant.name !== 'default');
  if (variantName === undefined) return { strategy, variant: strategy.variants[0]!, label: strategy.name };
  const variant = named.find((candidate) => candidate.name === variantName);
  if (!variant || extra.length > 0) {
    const labels = named.map((candidate) => `${name}:${candidate.name}`);
    // Compared without the strategy's name, which every label shares and would make any variant look near.
    const near = didYouMean(`${variantName}${extra.map((part) => `:${part}`).join('')}`, named.map((candidate) => candidate.name), (variant) => `${name}:${variant}`);
    return named.length === 0 ? `strategy "${name}" has no variants; got "${text}"` : `unknown variant "${text}"${near}; expected one of ${labels.join(', ')}`;
  }
  // The default variant keeps the plain name, so `redis` and `redis:none` are one row.
  return { strategy, variant, label: variant === strategy.variants[0] ? strategy.name : `${strategy.name}:${variant.name}` };
}
