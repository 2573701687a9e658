import type { StrategyDescriptor } from './strategies/descriptor.js';
import { mongo } from './strategies/mongo.js';
import { none } from './strategies/none.js';
import { postgres } from './strategies/postgres.js';
import { redis } from './strategies/redis.js';
import { buildRegistry, type StrategyChoice as Choice, type StrategyRegistry } from './strategies/registry.js';
import { sticky } from './strategies/sticky.js';

/**
 * The strategies hactl knows, in the order help, `all` and reports use: the one list. A new
 * strategy is a descriptor file in strategies/ and its entry here.
 */
const DESCRIPTORS = [none, sticky, redis, postgres, mongo] as const;

export type StrategyName = (typeof DESCRIPTORS)[number]['name'];
/** How sessions persist, in the terms of DESIGN.md: where they live and whether the balancer pins clients. */
export type Strategy = StrategyDescriptor<StrategyName>;
export type StrategyChoice = Choice<Strategy>;

export const strategyRegistry: StrategyRegistry<Strategy> = buildRegistry<Strategy>(DESCRIPTORS);

/** The names, as a tuple for schemas (`z.enum`). */
export const STRATEGY_NAMES = strategyRegistry.names as readonly [StrategyName, ...StrategyName[]];

export const strategies = Object.fromEntries(strategyRegistry.descriptors.map((strategy) => [strategy.name, strategy])) as Record<StrategyName, Strategy>;

/** `redis`, `redis:aof-always`; an unknown name or variant is a one-line problem naming the choices. */
/** Every variant with a replicated store (a primary, replicas, a failover), as `name:variant`. */
export const REPLICATED_VARIANTS: readonly string[] = strategyRegistry.descriptors.flatMap((strategy) =>
  strategy.variants.filter((variant) => variant.replication !== undefined).map((variant) => `${strategy.name}:${variant.name}`),
);

export function chooseStrategy(text: string): StrategyChoice | string {
  return strategyRegistry.choose(text);
}

/** A strategy's default variant, chosen: the row a plain name stands for. */
export function defaultChoice(strategy: Strategy): StrategyChoice {
  return { strategy, variant: strategy.variants[0]!, label: strategy.name };
}

export { REDIS_PERSISTENCE, type RedisPersistence, type StrategyDescriptor, type StrategyVariant } from './strategies/descriptor.js';
export { strategyHelp, variantRecord, type StrategyRegistry, type StrategyVariantRecord } from './strategies/registry.js';
