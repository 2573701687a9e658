import { z } from 'zod';
import { parseWith, readYamlFile } from '../platform/yaml-file.js';
import { strategyRegistry, type StrategyRegistry } from '../strategies.js';

/** AWS's price pages and its pricing calculator count a month as 730 hours (8,760 / 12). */
export const HOURS_PER_MONTH = 730;

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const webAddress = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const instancePrice = z.strictObject({
  type: z.string().min(1, 'expected an instance type such as t3.medium'),
  hourly: z.number({ error: 'expected a price per hour, a number' }).positive('expected a price per hour above 0'),
  /** The page the price was read from. */
  source: webAddress,
  /** The date that page states for its prices, when it states one. */
  retrieved: date.optional(),
  note: z.string().min(1).optional(),
});

/**
 * Hourly prices of one region: the app instance every replica runs on, and the instance of each
 * store, under the keys the strategies' descriptors price. An instance without a known price is
 * left out, and its strategies cost "no price".
 */
export function pricingSchema(registry: StrategyRegistry = strategyRegistry) {
  const instances = Object.fromEntries(['app', ...registry.pricedInstances].map((key) => [key, instancePrice.optional()]));
  return z.strictObject({
    region: z.string().min(1, 'expected a region such as us-east-1'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected a currency code such as USD'),
    source: z.strictObject({ title: z.string().min(1), url: webAddress, retrieved: date, note: z.string().min(1).optional() }),
    instances: z.strictObject(instances),
  });
}

export type InstancePrice = z.output<typeof instancePrice>;
/** `app`, or a key a strategy's descriptor prices (`redis`). */
export type PricedInstance = string;
export type Pricing = Omit<z.output<ReturnType<typeof pricingSchema>>, 'instances'> & { instances: Record<PricedInstance, InstancePrice> };

export async function loadPricing(file: string): Promise<Pricing> {
  return parsePricing(await readYamlFile(file, 'cannot read pricing file'), file);
}

/** Validates parsed pricing data; every problem is one line, `file: field: what was expected`. */
export function parsePricing(data: unknown, file: string, registry: StrategyRegistry = strategyRegistry): Pricing {
  return parseWith(pricingSchema(registry), data, file) as Pricing;
}

/**
 * The instances a strategy runs on besides its replicas, as its descriptor prices them (none for
 * `sticky`: stickiness is a setting of the balancer every strategy has). Undefined for a strategy
 * hactl does not know.
 */
export function strategyInstances(strategy: string | undefined, registry: StrategyRegistry = strategyRegistry): readonly PricedInstance[] | undefined {
  return strategy === undefined ? undefined : registry.named(strategy)?.pricing;
}

/**
 * Instance cost per month of one strategy, by its name: replicas x the app instance + each
 * instance it prices (`storeNodes` times for a replicated store), each for 730 hours. Null when an instance it needs has no price in the
 * file, or the strategy is not one hactl knows.
 */
export function monthlyCost(pricing: Pricing, strategy: string | undefined, replicas: number, registry: StrategyRegistry = strategyRegistry, storeNodes = 1): number | null {
  const single = strategyInstances(strategy, registry);
  // A replicated store (a primary and its replicas) runs its instances once per node.
  const instances = single && Array.from({ length: storeNodes }, () => single).flat();
  const app = pricing.instances.app;
  if (instances === undefined || !app) return null;
  let hourly = replicas * app.hourly;
  for (const instance of instances) {
    const price = pricing.instances[instance]?.hourly;
    if (price === undefined) return null;
    hourly += price;
  }
  return HOURS_PER_MONTH * hourly;
}

/**
 * The sentence under a table of costs: where the prices come from and what a month's cost adds
 * up, naming each instance the given strategies (by name) need, or that it has no price.
 */
export function pricingNote(pricing: Pricing, strategies: readonly (string | undefined)[], replicas: number, registry: StrategyRegistry = strategyRegistry): string {
  const stores = [...new Set(strategies.flatMap((strategy) => strategyInstances(strategy, registry) ?? []))];
  const parts = ['app', ...stores].map((name) => instanceText(pricing, name));
  const { source } = pricing;
  return (
    `Prices: ${source.title}, ${pricing.region}, retrieved ${source.retrieved} (${source.url})${source.note ? `; ${source.note}` : ''}. ` +
    `Cost per month = ${HOURS_PER_MONTH} h × (${replicas} × app + the strategy's store), instance hours only (no storage, I/O, data transfer or load balancer): ` +
    `${parts.join('; ')}.`
  );
}

function instanceText(pricing: Pricing, name: PricedInstance): string {
  const price = pricing.instances[name];
  if (!price) return `${name}: no price`;
  // The file's own source needs no repeating; an instance priced from another page cites it.
  const cited = price.source === pricing.source.url ? '' : ` (${price.source}${price.retrieved ? `, retrieved ${price.retrieved}` : ''})`;
  return `${name} ${price.type}${price.note ? ` (${price.note})` : ''} at ${price.hourly} ${pricing.currency}/h${cited}`;
}
