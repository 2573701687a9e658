import { describe, expect, it } from 'vitest';
import { UsageError } from '../platform/errors.js';
import { parseConfig } from './config-file.js';
import { parseRunFlags } from './options.js';

const external = { runtime: 'external', target: 'http://127.0.0.1:8080', strategy: 'redis' };

describe('load flags: --rate, --warm-up, --id-sample', () => {
  it('warms up by default on local and docker, not on a deployment hactl did not build', () => {
    expect(parseRunFlags({}).warmUp).toBe(true);
    expect(parseRunFlags({ runtime: 'docker' }).warmUp).toBe(true);
    expect(parseRunFlags(external).warmUp).toBe(false);
    expect(parseRunFlags({ ...external, warmUp: true }).warmUp).toBe(true);
    expect(parseRunFlags({ warmUp: false }).warmUp).toBe(false);
  });

  it('has no rate and no id sample unless given', () => {
    const settings = parseRunFlags({});
    expect(settings.rate).toBeUndefined();
    expect(settings.idSample).toBeUndefined();
    expect(parseRunFlags({ rate: '200', idSample: '30' })).toMatchObject({ rate: 200, idSample: 30 });
    expect(parseRunFlags({ ...external, rate: '5' }).rate).toBe(5);
  });

  it.each([
    [{ rate: '0' }, '--rate: expected a whole number from 1 to 1000000, got "0"'],
    [{ rate: '2.5' }, '--rate: expected a whole number from 1 to 1000000, got "2.5"'],
    [{ rate: 'fast' }, '--rate: expected a whole number from 1 to 1000000, got "fast"'],
    [{ idSample: '29' }, '--id-sample: expected a whole number from 30 to 100000, got "29"'],
    [{ idSample: '100001' }, '--id-sample: expected a whole number from 30 to 100000, got "100001"'],
  ])('rejects %o with one line', (flags, message) => {
    expect(() => parseRunFlags(flags)).toThrow(UsageError);
    expect(() => parseRunFlags(flags)).toThrow(message);
  });

  it('takes them from a config file by their long names', () => {
    const config = parseConfig({ rate: 50, 'warm-up': true, 'id-sample': 200, ...external }, 'hactl.config.yaml');
    expect(parseRunFlags(config.flags)).toMatchObject({ rate: 50, warmUp: true, idSample: 200 });
    expect(() => parseConfig({ 'warm-up': 'yes' }, 'c.yaml')).toThrow('c.yaml: warm-up:');
  });
});
