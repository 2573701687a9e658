import { describe, expect, it } from 'vitest';
import { formatSentinelUrl, isSentinelUrl, parseSentinelUrl } from './sentinel-url.js';

describe('a Sentinel URL', () => {
  const parts = {
    sentinels: [
      { host: '127.0.0.1', port: 26379 },
      { host: '127.0.0.1', port: 26380 },
    ],
    masterName: 'hactl',
    map: { '127.0.0.1:40001': { host: '127.0.0.1', port: 6379 } },
  };

  it('round-trips: Sentinels, master name and the address map', () => {
    const url = formatSentinelUrl(parts);
    expect(url).toBe('redis-sentinel://127.0.0.1:26379,127.0.0.1:26380/hactl?map=127.0.0.1:40001>127.0.0.1:6379');
    expect(parseSentinelUrl(url)).toEqual(parts);
    expect(parseSentinelUrl('redis-sentinel://sentinel:26379/my%20master')).toEqual({ sentinels: [{ host: 'sentinel', port: 26379 }], masterName: 'my master', map: {} });
  });

  it('is told apart from a redis:// URL', () => {
    expect(isSentinelUrl('redis-sentinel://a:1/m')).toBe(true);
    expect(isSentinelUrl('redis://127.0.0.1:6379')).toBe(false);
    expect(isSentinelUrl(undefined)).toBe(false);
  });

  it.each([
    ['redis-sentinel://127.0.0.1:26379', /expected redis-sentinel:\/\/host:port/],
    ['redis-sentinel://127.0.0.1/hactl', /"127.0.0.1" is not host:port/],
    ['redis-sentinel://127.0.0.1:0/hactl', /"127.0.0.1:0" is not host:port/],
    ['redis-sentinel://a:1/hactl?map=a:1', /map entry "a:1"/],
  ])('refuses %s in one line saying what is expected', (url, message) => {
    expect(() => parseSentinelUrl(url)).toThrow(message);
  });
});
