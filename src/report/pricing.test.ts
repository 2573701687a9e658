import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../platform/errors.js';
import { chooseStrategy, type StrategyChoice } from '../strategies.js';
import { bundledPricingNames, HOURS_PER_MONTH, isBundledPricingName, loadPricing, monthlyCost, parsePricing, pricingNote, typesOfClass, type Pricing } from './pricing.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/pricing/aws-us-east-1.yaml', import.meta.url));

const pricing: Pricing = {
  region: 'eu-test-1',
  currency: 'USD',
  class: 'small',
  source: { title: 'Test prices', url: 'https://example.com/prices', retrieved: '2026-01-02' },
  instances: {
    app: { type: 'small', hourly: 0.1, source: 'https://example.com/prices' },
    redis: { type: 'cache.small', hourly: 0.02, source: 'https://example.com/cache', retrieved: '2026-01-03' },
    postgres: { type: 'db.small', hourly: 0.05, source: 'https://example.com/prices', note: 'Single-AZ' },
  },
};

/** The strategy a row label stands for, by name: what the pricing functions take. */
const nameOf = (label: string) => (chooseStrategy(label) as StrategyChoice).strategy.name;

function problems(data: unknown): string[] {
  try {
    parsePricing(data, 'prices.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message.split('\n');
  }
  throw new Error('expected the pricing to be refused');
}

describe('loadPricing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-pricing-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the bundled us-east-1 file: one class, every price cites an http(s) page, and the prices no page gave are left out', async () => {
    const loaded = await loadPricing(FIXTURE);
    expect(loaded.region).toBe('us-east-1');
    expect(loaded.currency).toBe('USD');
    expect(loaded.class).toBe('t3.medium');
    expect(Object.keys(loaded.instances).sort()).toEqual(['app', 'redis']);
    for (const price of Object.values(loaded.instances)) {
      expect(price.source).toMatch(/^https:\/\//);
      expect(price.hourly).toBeGreaterThan(0);
      expect(typesOfClass('t3.medium')).toContain(price.type);
    }
    expect(monthlyCost(loaded, 'postgres', 3)).toBeNull();
    expect(monthlyCost(loaded, 'mongo', 3)).toBeNull();
  });

  it("loads a bundled file by name: the write-up's Seoul t3.medium table prices all five strategies", async () => {
    expect(await bundledPricingNames()).toEqual(['aws-ap-northeast-2-t3-medium', 'aws-us-east-1']);
    const seoul = await loadPricing('aws-ap-northeast-2-t3-medium');
    expect(seoul).toMatchObject({ region: 'ap-northeast-2', currency: 'USD', class: 't3.medium' });
    expect(Object.fromEntries(Object.entries(seoul.instances).map(([key, price]) => [key, [price.type, price.hourly]]))).toEqual({
      app: ['t3.medium', 0.052],
      redis: ['cache.t3.medium', 0.099],
      postgres: ['db.t3.medium', 0.104],
      mongo: ['db.t3.medium', 0.119],
    });
    for (const strategy of ['none', 'sticky', 'redis', 'postgres', 'mongo']) expect(monthlyCost(seoul, strategy, 3)).not.toBeNull();
    expect(monthlyCost(seoul, 'mongo', 3)).toBeCloseTo(HOURS_PER_MONTH * (3 * 0.052 + 0.119), 9);
    // The write-up states no date: the note says so rather than inventing one.
    expect(pricingNote(seoul, ['none'], 3)).toContain('ap-northeast-2, class t3.medium, undated (https://github.com/znxkznxk1030/session-persisting-in-HA-on-aws)');
  });

  it('tells a bundled name from a path, and refuses a name no bundled file has, listing those it has', async () => {
    expect(isBundledPricingName('aws-us-east-1')).toBe(true);
    for (const reference of ['prices.yaml', './aws-us-east-1', 'dir/prices', 'prices.json']) expect(isBundledPricingName(reference)).toBe(false);
    await expect(loadPricing('aws-mars-1')).rejects.toThrow(
      new UsageError('--pricing: no bundled pricing file is named "aws-mars-1"; expected one of aws-ap-northeast-2-t3-medium, aws-us-east-1, or the path of a YAML file'),
    );
  });

  it("refuses at load a file with an instance of another class than its own, naming the file and the field", async () => {
    const file = path.join(dir, 'mixed.yaml');
    await writeFile(
      file,
      [
        'region: us-east-1',
        'currency: USD',
        'class: t3.medium',
        'source: { title: Test, url: "https://example.com/p", retrieved: 2026-02-03 }',
        'instances:',
        '  app: { type: m7g.large, hourly: 0.0816, source: "https://example.com/p" }',
        '  redis: { type: cache.t3.medium, hourly: 0.068, source: "https://example.com/p" }',
        '  postgres: { type: db.t4g.micro, hourly: 0.016, source: "https://example.com/p" }',
      ].join('\n'),
    );
    const refused = loadPricing(file);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(
      `${file}: instances.app.type: m7g.large is not of the file's class t3.medium; expected t3.medium, cache.t3.medium or db.t3.medium\n` +
        `${file}: instances.postgres.type: db.t4g.micro is not of the file's class t3.medium; expected t3.medium, cache.t3.medium or db.t3.medium`,
    );
  });

  it('reads YAML, dates included, as written', async () => {
    const file = path.join(dir, 'ok.yaml');
    await writeFile(
      file,
      [
        'region: eu-test-1',
        'currency: EUR',
        'class: t.small',
        'source: { title: Test, url: "https://example.com/p", retrieved: 2026-02-03 }',
        'instances:',
        '  app: { type: t.small, hourly: 0.5, source: "https://example.com/p" }',
      ].join('\n'),
    );
    const loaded = await loadPricing(file);
    expect(loaded.source.retrieved).toBe('2026-02-03');
    expect(loaded.instances.app?.hourly).toBe(0.5);
    expect(loaded.instances.redis).toBeUndefined();
  });

  it('says which file could not be read, or is not YAML', async () => {
    const missing = path.join(dir, 'missing.yaml');
    await expect(loadPricing(missing)).rejects.toThrow(new UsageError(`cannot read pricing file ${missing}: ENOENT`));
    const broken = path.join(dir, 'broken.yaml');
    await writeFile(broken, 'region: [unclosed');
    await expect(loadPricing(broken)).rejects.toThrow(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid YAML: `));
  });
});

describe('parsePricing', () => {
  const valid = { region: 'r', currency: 'USD', class: 't3.medium', source: { title: 't', url: 'https://example.com', retrieved: '2026-01-01' }, instances: {} };

  it('accepts a file with no instance priced (every cost then reads "no price")', () => {
    expect(parsePricing(valid, 'prices.yaml').instances).toEqual({});
  });

  it('reports every problem on a line of its own, naming the file and the field', () => {
    const lines = problems({
      region: 'r',
      currency: 'dollars',
      class: 't3.medium',
      source: { title: 't', url: 'ftp://example.com/p', retrieved: 'June 2026' },
      instances: {
        app: { type: 't3.medium', hourly: '0.0416', source: 'https://example.com' },
        redis: { type: 'cache.t3.medium', hourly: 0, source: 'https://example.com' },
        memcached: { type: 'x', hourly: 1, source: 'https://example.com' },
      },
      extra: true,
    });
    expect(lines).toHaveLength(7);
    expect(lines).toEqual(
      expect.arrayContaining([
        'prices.yaml: currency: expected a currency code such as USD',
        'prices.yaml: source.url: expected an http(s) URL',
        'prices.yaml: source.retrieved: expected a date as YYYY-MM-DD',
        'prices.yaml: instances.app.hourly: expected a price per hour, a number',
        'prices.yaml: instances.redis.hourly: expected a price per hour above 0',
      ]),
    );
    expect(lines.find((line) => line.startsWith('prices.yaml: instances: '))).toMatch(/memcached/);
    expect(lines.find((line) => line.startsWith('prices.yaml: (top level): '))).toMatch(/extra/);
  });

  it('requires the source of the prices, and the class', () => {
    expect(problems({ ...valid, source: undefined })).toEqual([expect.stringMatching(/^prices\.yaml: source: /)]);
    expect(problems({ ...valid, class: undefined })).toEqual(['prices.yaml: class: expected the instance class every instance of the file is of, such as t3.medium']);
  });

  it('takes the class bare for EC2 and behind the cache. or db. prefix for the managed services, nothing else', () => {
    const priced = (type: string) => ({ ...valid, instances: { redis: { type, hourly: 1, source: 'https://example.com' } } });
    expect(parsePricing(priced('cache.t3.medium'), 'prices.yaml').instances.redis?.type).toBe('cache.t3.medium');
    for (const type of ['t3.large', 'cache.t3.micro', 'db.t4g.medium', 'x.t3.medium']) {
      expect(problems(priced(type))).toEqual([`prices.yaml: instances.redis.type: ${type} is not of the file's class t3.medium; expected t3.medium, cache.t3.medium or db.t3.medium`]);
    }
  });

  it('refuses an instance of the class on another service (the app on ElastiCache, Redis on RDS), naming the one it runs on', () => {
    const priced = (instances: Record<string, string>) => ({ ...valid, instances: Object.fromEntries(Object.entries(instances).map(([key, type]) => [key, { type, hourly: 1, source: 'https://example.com' }])) });
    expect(problems(priced({ app: 'cache.t3.medium', redis: 'db.t3.medium', postgres: 't3.medium', mongo: 'cache.t3.medium' }))).toEqual([
      "prices.yaml: instances.app.type: cache.t3.medium is another service's instance; app runs on t3.medium",
      "prices.yaml: instances.redis.type: db.t3.medium is another service's instance; redis runs on cache.t3.medium",
      "prices.yaml: instances.postgres.type: t3.medium is another service's instance; postgres runs on db.t3.medium",
      "prices.yaml: instances.mongo.type: cache.t3.medium is another service's instance; mongo runs on db.t3.medium",
    ]);
    expect(parsePricing(priced({ app: 't3.medium', redis: 'cache.t3.medium', postgres: 'db.t3.medium', mongo: 'db.t3.medium' }), 'prices.yaml').instances.mongo?.type).toBe('db.t3.medium');
  });
});

describe('monthlyCost', () => {
  const appOnly = HOURS_PER_MONTH * 3 * 0.1;

  it('is replicas x the app instance for strategies that keep sessions in replica memory; stickiness costs nothing extra', () => {
    expect(monthlyCost(pricing, 'none', 3)).toBeCloseTo(appOnly, 9);
    expect(monthlyCost(pricing, 'sticky', 3)).toBeCloseTo(appOnly, 9);
    expect(monthlyCost(pricing, nameOf('sticky:app_cookie'), 3)).toBeCloseTo(appOnly, 9);
  });

  it("adds the strategy's store instance, the same for each of its variants", () => {
    expect(monthlyCost(pricing, 'redis', 3)).toBeCloseTo(HOURS_PER_MONTH * (0.3 + 0.02), 9);
    expect(monthlyCost(pricing, nameOf('redis:aof-always'), 3)).toBe(monthlyCost(pricing, 'redis', 3));
    expect(monthlyCost(pricing, 'postgres', 2)).toBeCloseTo(HOURS_PER_MONTH * (0.2 + 0.05), 9);
  });

  it('prices a replicated store once per node (a primary and two replicas: three instances)', () => {
    expect(monthlyCost(pricing, nameOf('redis:replica'), 3, undefined, 3)).toBeCloseTo(HOURS_PER_MONTH * (0.3 + 3 * 0.02), 9);
  });

  it('is null when an instance it needs has no price, or the strategy is unknown', () => {
    expect(monthlyCost(pricing, 'mongo', 3)).toBeNull();
    expect(monthlyCost({ ...pricing, instances: { redis: pricing.instances.redis! } }, 'none', 3)).toBeNull();
    expect(monthlyCost(pricing, 'memcached', 3)).toBeNull();
  });
});

describe('pricingNote', () => {
  it("cites the file's source and each instance the strategies need, with the page of any priced elsewhere", () => {
    expect(pricingNote(pricing, ['none', 'redis', 'redis:aof-always', 'mongo'].map(nameOf), 3)).toBe(
      'Prices: Test prices, eu-test-1, class small, retrieved 2026-01-02 (https://example.com/prices). ' +
        "Cost per month = 730 h × (3 × app + the strategy's store × its store nodes), instance hours only (no storage, I/O, data transfer or load balancer): " +
        'app small at 0.1 USD/h; redis cache.small at 0.02 USD/h (https://example.com/cache, retrieved 2026-01-03); mongo: no price.',
    );
  });

  it("adds the source's note and an instance's note", () => {
    const noted = { ...pricing, source: { ...pricing.source, note: 'on-demand, Linux' } };
    const note = pricingNote(noted, ['postgres'], 2);
    expect(note).toContain('(https://example.com/prices); on-demand, Linux. ');
    expect(note).toContain('(2 × app');
    expect(note).toContain('postgres db.small (Single-AZ) at 0.05 USD/h.');
  });
});
