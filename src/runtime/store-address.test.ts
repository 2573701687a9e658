import { describe, expect, it } from 'vitest';
import { addressOf, withAddress } from './store-address.js';

describe('store addresses', () => {
  it.each([
    ['redis://127.0.0.1:6379', 'redis://proxy:7000'],
    ['postgres://hactl@postgres:5432/postgres', 'postgres://hactl@proxy:7000/postgres'],
    ['mongodb://127.0.0.1:27017/hactl', 'mongodb://proxy:7000/hactl'],
  ])('points %s at a proxy without touching user, database or scheme', (url, proxied) => {
    expect(withAddress(url, 'proxy', 7000)).toBe(proxied);
  });

  it('reads host and port back', () => {
    expect(addressOf('postgres://hactl@postgres:5432/postgres')).toEqual({ host: 'postgres', port: 5432 });
    expect(() => addressOf('redis://localhost')).toThrow('names no host and port');
  });
});
