import { describe, expect, it } from 'vitest';
import { redis } from './redis.js';

const field = (name: string, storeUrl: string | undefined) => redis.replicaFields.find((candidate) => candidate.name === name)!.value({ storeUrl, peers: [] });

describe('redis:sentinel', () => {
  it('asks the store for a failover Sentinel decides, asynchronous, one replica until --store-replicas says otherwise', () => {
    const sentinel = redis.variants.find((variant) => variant.name === 'sentinel')!;
    expect(redis.storeOptions!(sentinel)).toEqual({ persistence: 'none', replication: { replicas: 1, mode: 'async', profile: 'fast', decidedBy: 'sentinel' } });
    expect(redis.storeOptions!(redis.variants.find((variant) => variant.name === 'replica')!).replication).not.toHaveProperty('decidedBy');
  });

  it("gives a user's app the Sentinels and the master name, and no one server's host and port", () => {
    const url = 'redis-sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/hactl?map=127.0.0.1:40001>127.0.0.1:6379';
    expect(field('redisSentinels', url)).toBe('127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381');
    expect(field('redisMasterName', url)).toBe('hactl');
    expect(field('redisUrl', url)).toBe(url);
    expect([field('redisHost', url), field('redisPort', url)]).toEqual(['', '']);
    expect([field('redisSentinels', 'redis://127.0.0.1:6390'), field('redisMasterName', undefined), field('redisPort', 'redis://127.0.0.1:6390')]).toEqual(['', '', '6390']);
  });
});
