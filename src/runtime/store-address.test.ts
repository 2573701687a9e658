import { describe, expect, it } from 'vitest';
import { knownAddress, withAddress } from './store-address.js';

describe('store addresses', () => {
  it.each([
    ['redis://127.0.0.1:6379', 'redis://proxy:7000'],
    ['postgres://hactl@postgres:5432/postgres', 'postgres://hactl@proxy:7000/postgres'],
    ['mongodb://127.0.0.1:27017/hactl', 'mongodb://proxy:7000/hactl'],
  ])('points %s at a proxy without touching user, database or scheme', (url, proxied) => {
    expect(withAddress(url, 'proxy', 7000)).toBe(proxied);
  });

  it('gives a node\'s known address, and refuses one hactl does not know with the reason', () => {
    const address = { known: true as const, host: 'postgres', port: 5432, url: 'postgres://hactl@postgres:5432/postgres' };
    expect(knownAddress({ id: 'node-1', address })).toEqual(address);
    expect(() => knownAddress({ id: 'node-1', address: { known: false, why: "the deployment's own redis" } })).toThrow(
      "hactl does not know where store node node-1 listens (the deployment's own redis)",
    );
  });
});
