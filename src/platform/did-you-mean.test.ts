import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, nearestNames } from './did-you-mean.js';

describe('did you mean', () => {
  it.each([
    ['', '', 0],
    ['none', 'none', 0],
    ['nnone', 'none', 1],
    ['login-raed', 'login-read', 1],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
    ['', 'redis', 5],
  ])('distance %j to %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  const strategies = ['none', 'sticky', 'redis', 'postgres', 'mongo'];
  it.each([
    ['nnone', strategies, ['none']],
    ['Redis', strategies, ['redis']],
    ['postgress', strategies, ['postgres']],
    ['login-raed', ['login-read', 'kill-node', 'cookie-swap'], ['login-read']],
    ['hitrate', ['hitRate', 'missRate'], ['hitRate']],
    ['logout', ['stolen-cookie', 'logout-invalidates'], ['logout-invalidates']],
    ['forged-id', ['forged-id-read', 'forged-id-adopted', 'stolen-cookie'], ['forged-id-read', 'forged-id-adopted']],
    ['read.p90', ['read.p50', 'read.p95', 'read.p99', 'read.max'], ['read.p50', 'read.p95', 'read.p99']],
  ])('%j among %j: %j', (name, known, nearest) => expect(nearestNames(name, known)).toEqual(nearest));

  it('suggests nothing far away, nothing for a known name, and no wholesale replacement', () => {
    expect(nearestNames('memcached', strategies)).toEqual([]);
    expect(nearestNames('none', strategies)).toEqual([]);
    expect(nearestNames('x', ['a', 'b'])).toEqual([]);
    expect(nearestNames('', strategies)).toEqual([]);
  });

  it('a near spelling beats a shortened id', () => {
    expect(nearestNames('cookie-pat', ['cookie-path', 'cookie-path-extra'])).toEqual(['cookie-path']);
  });

  it('reads as the tail of an error', () => {
    expect(didYouMean('nnone', strategies)).toBe(' (did you mean none?)');
    expect(didYouMean('forged-id', ['forged-id-read', 'forged-id-adopted'])).toBe(' (did you mean forged-id-read or forged-id-adopted?)');
    expect(didYouMean('memcached', strategies)).toBe('');
    expect(didYouMean('aof-alway', ['none', 'aof-everysec', 'aof-always'], (variant) => `redis:${variant}`)).toBe(' (did you mean redis:aof-always?)');
  });
});
