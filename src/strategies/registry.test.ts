import { describe, expect, it } from 'vitest';
import { mongo } from './mongo.js';
import { none } from './none.js';
import { postgres } from './postgres.js';
import { redis } from './redis.js';
import { sticky } from './sticky.js';
import { defineStrategy, type StrategyDescriptor } from './descriptor.js';
import { buildRegistry, strategyHelp, variantRecord, type StrategyChoice } from './registry.js';
import { STRATEGY_NAMES, strategyRegistry } from '../strategies.js';
import { monthlyCost, parsePricing, pricingNote } from '../report/pricing.js';
import { planTopology, replicaFieldsHelp, replicaTemplateFields, replicaTemplateValues } from '../topology/plan.js';

/** A strategy hactl does not have: three cache nodes, priced one instance each, addressed by one field. */
const memcached = defineStrategy({
  name: 'memcached',
  summary: 'sessions in three memcached nodes',
  variants: [
    { name: 'default', summary: '' },
    { name: 'replicated', summary: 'each session on two nodes' },
  ],
  appStore: 'memory',
  sticky: false,
  replicaFields: [{ name: 'memcachedServers', value: ({ storeUrl }) => storeUrl ?? '' }],
  faultTargets: ['replica'],
  pricing: ['memcached', 'memcached', 'memcached'],
});

/** In-memory replication: every replica needs the others' addresses. */
const replicated = defineStrategy({
  name: 'replicated',
  summary: 'sessions replicated between the replicas',
  variants: [{ name: 'default', summary: '' }],
  appStore: 'memory',
  sticky: false,
  replicaFields: [{ name: 'peers', value: ({ peers }) => peers.map((peer) => `${peer.host}:${peer.port}`).join(',') }],
  faultTargets: ['replica'],
  pricing: [],
});

const BUILT_IN = [none, sticky, redis, postgres, mongo];
const extended = buildRegistry<StrategyDescriptor>([...BUILT_IN, memcached, replicated]);

describe('the built-in registry', () => {
  it('is the five descriptor files, in the order help, `all` and reports use', () => {
    expect(strategyRegistry.descriptors).toEqual(BUILT_IN);
    expect(STRATEGY_NAMES).toEqual(['none', 'sticky', 'redis', 'postgres', 'mongo']);
  });

  it("offers store faults exactly where a store is started, and prices each strategy's store", () => {
    for (const strategy of strategyRegistry.descriptors) {
      expect(strategy.faultTargets.includes('store'), strategy.name).toBe(strategy.store !== undefined);
      expect(strategy.pricing, strategy.name).toEqual(strategy.store ? [strategy.store] : []);
    }
  });

  it('keeps the help text and template fields hactl had before the registry', () => {
    expect(strategyHelp(strategyRegistry)).toBe(
      'session strategies, comma-separated: none, sticky, redis, postgres, mongo, or all; variants as name:variant (sticky:lb_cookie, sticky:app_cookie, redis:none, redis:aof-everysec, redis:aof-always, redis:replica, redis:replica-wait, redis:sentinel, postgres:standby, postgres:sync-standby, mongo:replica-set, mongo:replica-set-majority)',
    );
    expect(replicaFieldsHelp()).toBe('{port}, {host}, {replica}, {strategy}, {storeUrl}, {redisUrl}, {redisHost}, {redisPort}, {redisSentinels}, {redisMasterName}, {redisReaderUrl}, {postgresUrl}, {postgresReaderUrl}, {mongoUrl}');
  });

  it('states a row label as its strategy and variant: the default variant keeps the plain name', () => {
    const record = (label: string) => variantRecord(strategyRegistry.choose(label) as StrategyChoice);
    expect(record('redis')).toEqual({ label: 'redis', strategy: 'redis', variant: 'none' });
    expect(record('redis:none')).toEqual({ label: 'redis', strategy: 'redis', variant: 'none' });
    expect(record('redis:aof-always')).toEqual({ label: 'redis:aof-always', strategy: 'redis', variant: 'aof-always' });
    expect(record('postgres')).toEqual({ label: 'postgres', strategy: 'postgres', variant: 'default' });
  });

  it('has redis state its persistence as a figure, and no other strategy any', () => {
    expect(redis.variants.map((variant) => redis.figures?.(variant))).toEqual([{ persistence: 'none' }, { persistence: 'aof-everysec' }, { persistence: 'aof-always' }, { persistence: 'none' }, { persistence: 'none' }, { persistence: 'none' }]);
    for (const strategy of [none, sticky, postgres, mongo]) expect(strategy.figures, strategy.name).toBeUndefined();
  });
});

describe('adding a descriptor to the registry is all it takes', () => {
  it('to appear in the CLI choices, with its variants, and be chosen', () => {
    expect(strategyHelp(extended)).toBe(
      'session strategies, comma-separated: none, sticky, redis, postgres, mongo, memcached, replicated, or all; variants as name:variant (sticky:lb_cookie, sticky:app_cookie, redis:none, redis:aof-everysec, redis:aof-always, redis:replica, redis:replica-wait, redis:sentinel, postgres:standby, postgres:sync-standby, mongo:replica-set, mongo:replica-set-majority, memcached:replicated)',
    );
    expect(extended.choose('memcached:replicated')).toMatchObject({ strategy: memcached, label: 'memcached:replicated' });
    expect(extended.choose('replicated:fast')).toBe('strategy "replicated" has no variants; got "replicated:fast"');
    expect(extended.choose('memcache')).toBe('unknown strategy "memcache" (did you mean memcached?); expected one or more of none, sticky, redis, postgres, mongo, memcached, replicated, or all');
  });

  it('to appear in the template field list, filled for its own rows only, peers included', () => {
    expect(replicaTemplateFields(extended)).toEqual(['port', 'host', 'replica', 'strategy', 'storeUrl', 'redisUrl', 'redisHost', 'redisPort', 'redisSentinels', 'redisMasterName', 'redisReaderUrl', 'postgresUrl', 'postgresReaderUrl', 'mongoUrl', 'memcachedServers', 'peers']);
    const peers = [
      { id: 'replica-2', host: '10.0.0.2', port: 8080 },
      { id: 'replica-3', host: '10.0.0.3', port: 8080 },
    ];
    const own = planTopology(extended.choose('replicated') as StrategyChoice, { replicas: 3, balancerPort: 0 });
    const values = replicaTemplateValues(own, own.replicas[0]!, { host: '10.0.0.1', port: 8080 }, undefined, peers, extended);
    expect(values.peers).toBe('10.0.0.2:8080,10.0.0.3:8080');
    expect([values.memcachedServers, values.redisUrl]).toEqual(['', '']);
    const other = planTopology(strategyRegistry.choose('redis') as StrategyChoice, { replicas: 3, balancerPort: 0 });
    const redisValues = replicaTemplateValues(other, other.replicas[0]!, { host: '10.0.0.1', port: 8080 }, 'redis://10.0.0.9:6379', peers, extended);
    expect([redisValues.redisUrl, redisValues.peers, redisValues.memcachedServers]).toEqual(['redis://10.0.0.9:6379', '', '']);
  });

  it('to have its pricing keys accepted in a pricing file and priced once per instance', () => {
    const file = {
      region: 'r',
      currency: 'USD',
      class: 't3.medium',
      source: { title: 't', url: 'https://example.com', retrieved: '2026-01-01' },
      instances: { app: { type: 't3.medium', hourly: 0.1, source: 'https://example.com' }, memcached: { type: 'cache.t3.medium', hourly: 0.01, source: 'https://example.com' } },
    };
    const pricing = parsePricing(file, 'prices.yaml', extended);
    expect(monthlyCost(pricing, 'memcached', 2, extended)).toBeCloseTo(730 * (2 * 0.1 + 3 * 0.01), 9);
    expect(monthlyCost(pricing, 'replicated', 2, extended)).toBeCloseTo(730 * 2 * 0.1, 9);
    expect(pricingNote(pricing, ['memcached'], 2, extended)).toMatch(/: app t3\.medium at 0\.1 USD\/h; memcached cache\.t3\.medium at 0\.01 USD\/h\.$/);
    // Without the descriptor, the key is not one a pricing file may hold.
    expect(() => parsePricing(file, 'prices.yaml')).toThrow(/prices\.yaml: instances: .*memcached/);
  });
});

describe('a registry refuses descriptors that contradict each other or themselves', () => {
  it('two strategies of one name, or two claiming one template field', () => {
    expect(() => buildRegistry([none, none])).toThrow('strategy "none" is declared twice');
    expect(() => buildRegistry([redis, { ...memcached, replicaFields: [{ name: 'redisUrl', value: () => '' }] }])).toThrow('replica template field "redisUrl" is declared twice');
  });

  it('store faults without a store, or no variant to default to', () => {
    expect(() => buildRegistry([{ ...memcached, faultTargets: ['replica', 'store'] }])).toThrow('strategy memcached offers store faults but needs no store');
    expect(() => buildRegistry([{ ...memcached, variants: [] }])).toThrow('strategy memcached declares no variant; its default is the first');
  });
});
