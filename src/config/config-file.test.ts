import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { mergeFlags } from '../commands/run-command.js';
import { UsageError } from '../errors.js';
import { parseConfig } from './config-file.js';
import { parseRunFlags } from './options.js';
import { STARTER_CONFIG } from './starter.js';

describe('config files', () => {
  it('the starter config hactl init writes is valid, and runs the classic comparison with expectations', () => {
    const config = parseConfig(parseYaml(STARTER_CONFIG), 'ci/hactl.config.yaml');
    const settings = parseRunFlags(config.flags);
    expect(settings.strategies.map((choice) => choice.label)).toEqual(['none', 'sticky', 'redis', 'postgres']);
    expect(settings.scenarios).toEqual(['login-read', 'kill-node', 'cookie-swap']);
    expect(settings.seed).toBe(2026);
    expect(config.reports.junit).toBe('ci/hactl-junit.xml');
    expect(config.expectations).toContainEqual({ strategy: 'redis', scenario: 'kill-node', metric: 'sessionLoss', bound: { kind: 'compare', op: '==', value: 0, text: '== 0' } });
    expect(config.expectations).toContainEqual({ strategy: '*', scenario: 'cookie-swap', metric: 'finding.forged-id-adopted', bound: { kind: 'finding', passed: true, text: 'pass' } });
  });

  it('takes every flag by its long name; lists, maps and paths relative to the file', () => {
    const config = parseConfig(
      {
        strategy: ['redis', 'redis:aof-always'],
        scenario: ['kill-store', 'scenarios/mine.yaml'],
        'request-timeout': 5000,
        runtime: 'docker',
        image: { redis: 'my/redis:7' },
        'app-env': { PORT_OFFSET: 1 },
        'app-profile': 'apps/shop.yaml',
        out: '/tmp/r.json',
        strict: true,
      },
      'ci/hactl.yaml',
    );
    expect(config.flags).toEqual({
      strategy: 'redis,redis:aof-always',
      scenario: 'kill-store,ci/scenarios/mine.yaml',
      requestTimeout: '5000',
      runtime: 'docker',
      image: ['redis=my/redis:7'],
      appEnv: ['PORT_OFFSET=1'],
      appProfile: 'ci/apps/shop.yaml',
      out: '/tmp/r.json',
    });
    expect(config.strict).toBe(true);
  });

  it.each([
    [{ replica: 3 }, /^c\.yaml: \(top level\): Unrecognized key: "replica"/],
    [{ replicas: 'three' }, /^c\.yaml: replicas: /],
    [{ expect: { redis: { 'login-read': { hitrate: '>= 1' } } } }, /^c\.yaml: expect\.redis\.login-read\.hitrate: unknown figure "hitrate"; expected one of hitRate, /],
    [{ expect: { redis: { 'login-read': { hitRate: 'high' } } } }, /^c\.yaml: expect\.redis\.login-read\.hitRate: expected a comparison such as ">= 0\.99", "== 0" or "< 250", got "high"/],
    [{ expect: { redis: { 'login-read': { hitRate: 1 } } } }, /expected a comparison .*, got 1/],
    [{ expect: { redis: { 'cookie-swap': { 'finding.forged-id-read': '>= 1' } } } }, /finding\.forged-id-read: expected pass or fail/],
    [{ expect: { memcached: { 'login-read': { hitRate: '>= 1' } } } }, /^c\.yaml: expect\.memcached: unknown strategy "memcached"/],
    [{ expect: { redis: { 'Login Read': { hitRate: '>= 1' } } } }, /^c\.yaml: expect\.redis\.Login Read: expected a scenario name/],
  ])('names file, path and what was expected (%#)', (data, message) => {
    expect(() => parseConfig(data, 'c.yaml')).toThrow(UsageError);
    expect(() => parseConfig(data, 'c.yaml')).toThrow(message);
  });

  it('flags typed on the command line override the file; repeatable ones add to it', () => {
    const config = parseConfig({ strategy: 'redis', users: 50, 'app-env': { A: 1 } }, 'c.yaml');
    // commander hands over defaults too (users 30): only typed flags win.
    const merged = mergeFlags(config, { strategy: 'none', users: '30', appEnv: ['B=2'], replicas: '3' }, new Set(['strategy', 'appEnv']));
    expect(merged).toMatchObject({ strategy: 'none', users: '50', appEnv: ['A=1', 'B=2'], replicas: '3' });
  });
});
