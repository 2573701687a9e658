import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UsageError } from '../platform/errors.js';
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
 * The services' prefixes before an instance class: ElastiCache's `cache.`, RDS's and DocumentDB's
 * `db.`. An EC2 instance has none.
 */
const SERVICE_PREFIXES = ['cache.', 'db.'] as const;

/** The service each priced instance runs on, as AWS names its instances: EC2 bare, ElastiCache `cache.`, RDS and DocumentDB `db.`. */
const SERVICE_PREFIX: Readonly<Record<string, string>> = { app: '', redis: 'cache.', postgres: 'db.', mongo: 'db.' };

/** The instance types of one class: `t3.medium`, `cache.t3.medium`, `db.t3.medium`. */
export function typesOfClass(instanceClass: string): string[] {
  return [instanceClass, ...SERVICE_PREFIXES.map((prefix) => `${prefix}${instanceClass}`)];
}

/**
 * Hourly prices of one region: the app instance every replica runs on, and the instance of each
 * store, under the keys the strategies' descriptors price. An instance without a known price is
 * left out, and its strategies cost "no price". Every instance is of the file's one `class`, so
 * that the cost column compares strategies on like machines (a large app instance beside micro
 * stores would make a store look cheap that is merely small).
 */
export function pricingSchema(registry: StrategyRegistry = strategyRegistry) {
  const instances = Object.fromEntries(['app', ...registry.pricedInstances].map((key) => [key, instancePrice.optional()]));
  return z
    .strictObject({
      region: z.string().min(1, 'expected a region such as us-east-1'),
      currency: z.string().regex(/^[A-Z]{3}$/, 'expected a currency code such as USD'),
      class: z.string({ error: 'expected the instance class every instance of the file is of, such as t3.medium' }).regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected an instance class such as t3.medium'),
      // The date the page states for its prices; a page that states none (a write-up's table) leaves it out.
      source: z.strictObject({ title: z.string().min(1), url: webAddress, retrieved: date.optional(), note: z.string().min(1).optional() }),
      instances: z.strictObject(instances),
    })
    .superRefine((pricing, context) => {
      const types = typesOfClass(pricing.class);
      for (const [key, price] of Object.entries(pricing.instances)) {
        if (!price) continue;
        const expected = SERVICE_PREFIX[key];
        if (types.includes(price.type) && expected !== undefined && price.type !== `${expected}${pricing.class}`) {
          context.addIssue({ code: 'custom', path: ['instances', key, 'type'], message: `${price.type} is another service's instance; ${key} runs on ${expected}${pricing.class}` });
          continue;
        }
        if (types.includes(price.type)) continue;
        context.addIssue({
          code: 'custom',
          path: ['instances', key, 'type'],
          message: `${price.type} is not of the file's class ${pricing.class}; expected ${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}`,
        });
      }
    });
}

export type InstancePrice = z.output<typeof instancePrice>;
/** `app`, or a key a strategy's descriptor prices (`redis`). */
export type PricedInstance = string;
export type Pricing = Omit<z.output<ReturnType<typeof pricingSchema>>, 'instances'> & { instances: Record<PricedInstance, InstancePrice> };

/** The pricing files hactl ships, which `--pricing NAME` names without a path. */
export const BUNDLED_PRICING_DIR = fileURLToPath(new URL('../../fixtures/pricing/', import.meta.url));

/**
 * Whether `--pricing`'s value names a bundled file rather than a path: a bare name, with no
 * folder and no dot (`aws-ap-northeast-2-t3-medium`); `prices.yaml` and `./prices` are paths.
 */
export function isBundledPricingName(reference: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(reference);
}

/** The names of the bundled pricing files, sorted. */
export async function bundledPricingNames(): Promise<string[]> {
  const files = await readdir(BUNDLED_PRICING_DIR).catch(() => [] as string[]);
  return files.filter((file) => /\.ya?ml$/.test(file)).map((file) => file.replace(/\.ya?ml$/, '')).sort();
}

/** Loads `--pricing`'s file: a bundled one by name, or any YAML file by path. */
export async function loadPricing(reference: string): Promise<Pricing> {
  if (!isBundledPricingName(reference)) return parsePricing(await readYamlFile(reference, 'cannot read pricing file'), reference);
  const names = await bundledPricingNames();
  if (!names.includes(reference)) {
    throw new UsageError(`--pricing: no bundled pricing file is named "${reference}"; expected one of ${names.join(', ')}, or the path of a YAML file`);
  }
  const file = `${BUNDLED_PRICING_DIR}${reference}.yaml`;
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
  const retrieved = source.retrieved ? `retrieved ${source.retrieved}` : 'undated';
  return (
    `Prices: ${source.title}, ${pricing.region}, class ${pricing.class}, ${retrieved} (${source.url})${source.note ? `; ${source.note}` : ''}. ` +
    `Cost per month = ${HOURS_PER_MONTH} h × (${replicas} × app + the strategy's store × its store nodes), instance hours only (no storage, I/O, data transfer or load balancer): ` +
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
