import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { failureRules, mergeFlags } from '../commands/run-command.js';
import { UsageError } from '../platform/errors.js';
import path from 'node:path';
import { commandDir, parseConfig } from './config-file.js';
import type { FlagSpec } from '../platform/flag.js';
import { configKey, FLAGS } from './flags.js';
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

  it('the starter config names the external keys, commented out; uncommented, they are valid together', () => {
    const block = STARTER_CONFIG.slice(STARTER_CONFIG.indexOf('# runtime: external'), STARTER_CONFIG.indexOf('# Reports for CI'));
    const entries = block
      .split('\n')
      .filter((line) => /^# [a-z-]+: /.test(line))
      .map((line) => parseYaml(line.slice(2).replace(/\s+#.*$/, '')) as Record<string, unknown>);
    const keys = entries.map((entry) => Object.keys(entry)[0]);
    const added = ['verify-cmd', 'store-ready-cmd', 'fault-timeout', 'rate', 'warm-up', 'id-sample'];
    expect(keys).toEqual(['runtime', 'target', 'kill-replica-cmd', 'start-replica-cmd', 'kill-store-cmd', 'start-store-cmd', ...added]);
    const config = parseConfig({ strategy: 'redis', ...Object.assign({}, ...entries) }, 'ci/hactl.config.yaml');
    expect(config.flags).toMatchObject({ runtime: 'external', target: 'https://staging.shop.example.com', killReplicaCmd: './ops/kill-task {replica} {signal}' });
    expect(parseRunFlags(config.flags).runtime.settings).toMatchObject({ target: 'https://staging.shop.example.com', startStoreCmd: './ops/start-redis' });
  });

  it('takes pricing as a bundled file by name, kept as written, or as a path relative to the config file', () => {
    expect(parseConfig({ pricing: 'aws-ap-northeast-2-t3-medium' }, 'ci/hactl.yaml').reports.pricing).toBe('aws-ap-northeast-2-t3-medium');
    expect(parseConfig({ pricing: 'prices.yaml' }, 'ci/hactl.yaml').reports.pricing).toBe(path.join('ci', 'prices.yaml'));
  });

  it('accepts every flag of the flag table by its long name, each arriving as the flag it is (or as the report or rule it sets)', () => {
    // One value per kind of flag, and what the file turns it into.
    const sample = (flag: FlagSpec): [unknown, unknown] => {
      if (flag.key === 'strategy') return [['redis', 'none'], 'redis,none'];
      if (flag.value === 'list') return [['a', 'b'], 'a,b'];
      if (flag.value === 'whole') return [7, '7'];
      if (flag.value === 'switch') return [true, true];
      if (flag.value === 'pairs') return [{ KEY: 'value', N: 1 }, ['KEY=value', 'N=1']];
      return flag.path ? ['dir/file', 'ci/dir/file'] : [`${flag.key} value`, `${flag.key} value`];
    };
    const inFile = FLAGS.filter((flag) => configKey(flag) !== undefined);
    // Everything but the file itself and terminal output (--config, --quiet, --debug) has a key.
    expect(FLAGS.filter((flag) => configKey(flag) === undefined).map((flag) => flag.key)).toEqual(['config', 'quiet', 'debug']);
    expect(inFile.length).toBeGreaterThanOrEqual(40);
    const data = Object.fromEntries(inFile.map((flag) => [configKey(flag)!, sample(flag)[0]]));
    const config = parseConfig(data, 'ci/hactl.yaml');
    const { junit, html, pricing, strict, failOnFindings, ...runFlags } = Object.fromEntries(inFile.map((flag) => [flag.key, sample(flag)[1]]));
    expect(config.flags).toEqual(runFlags);
    expect(config.reports).toEqual({ junit, html, pricing });
    expect({ strict: config.strict, failOnFindings: config.failOnFindings }).toEqual({ strict, failOnFindings });
    // Each key on its own too: none is accepted only in company.
    for (const flag of inFile) expect(() => parseConfig({ [configKey(flag)!]: sample(flag)[0] }, 'c.yaml'), configKey(flag)).not.toThrow();
  });

  it('takes lists, maps and paths relative to the file', () => {
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
        'fail-on-findings': true,
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
    expect(config.failOnFindings).toBe(true);
    expect(parseConfig({}, 'c.yaml').failOnFindings).toBeUndefined();
  });

  it.each([
    [{ replica: 3 }, /^c\.yaml: \(top level\): Unrecognized key: "replica"/],
    [{ replicas: 'three' }, /^c\.yaml: replicas: /],
    [{ expect: { redis: { 'login-read': { hitrate: '>= 1' } } } }, /^c\.yaml: expect\.redis\.login-read\.hitrate: unknown figure "hitrate" \(did you mean hitRate\?\); expected one of hitRate, /],
    [{ expect: { redis: { 'login-read': { hitRate: 'high' } } } }, /^c\.yaml: expect\.redis\.login-read\.hitRate: expected a comparison such as ">= 0\.99", "== 0" or "< 250", got "high"/],
    [{ expect: { redis: { 'login-read': { hitRate: 1 } } } }, /expected a comparison .*, got 1/],
    [{ expect: { redis: { 'cookie-swap': { 'finding.forged-id-read': '>= 1' } } } }, /^c\.yaml: expect\.redis\.cookie-swap\.finding\.forged-id-read: expected pass, fail or n\/a, got ">= 1"$/],
    [{ expect: { redis: { 'login-read': { hitRate: 'n/a' } } } }, /^c\.yaml: expect\.redis\.login-read\.hitRate: n\/a is a bound for findings \(finding\.<id>\) only; hitRate is a number: expected a comparison such as ">= 0\.99", "== 0" or "< 250"$/],
    [{ expect: { redis: { 'login-read': { hitRate: 'pass' } } } }, /^c\.yaml: expect\.redis\.login-read\.hitRate: expected a comparison such as .*, got "pass"$/],
    [{ 'fail-on-findings': 'yes' }, /^c\.yaml: fail-on-findings: /],
    [{ expect: { memcached: { 'login-read': { hitRate: '>= 1' } } } }, /^c\.yaml: expect\.memcached: unknown strategy "memcached"/],
    [{ expect: { redis: { 'Login Read': { hitRate: '>= 1' } } } }, /^c\.yaml: expect\.redis\.Login Read: expected a scenario name/],
  ])('names file, path and what was expected (%#)', (data, message) => {
    expect(() => parseConfig(data, 'c.yaml')).toThrow(UsageError);
    expect(() => parseConfig(data, 'c.yaml')).toThrow(message);
  });

  const known = { scenarios: ['cookie-swap', 'kill-node', 'login-read', 'security', 'my-flow'] };
  const problems = (data: unknown) => {
    try {
      parseConfig(data, 'c.yaml', known);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message.split('\n');
    }
    throw new Error('the config validated');
  };

  it('reports every problem at once, each naming file and path, with the names near a mistyped one', () => {
    expect(
      problems({
        strategy: ['none', 'reddis'],
        scenario: 'login-read,kill-nod',
        replica: 3,
        expect: {
          nnone: { 'login-raed': { hitrate: '>= 1' } },
          redis: { 'login-read': { 'finding.logout': 'pass', 'read.p90': '< 5' }, security: { 'finding.stolen-cookie': 'pass' } },
        },
      }),
    ).toEqual([
      'c.yaml: (top level): Unrecognized key: "replica" (did you mean replicas?)',
      'c.yaml: strategy: unknown strategy "reddis" (did you mean redis?); expected one or more of none, sticky, redis, postgres, mongo, or all',
      'c.yaml: scenario: unknown scenario "kill-nod" (did you mean kill-node?); expected one of cookie-swap, kill-node, login-read, security, my-flow, or a path to a scenario .yaml file',
      'c.yaml: expect.nnone: unknown strategy "nnone" (did you mean none?); expected one or more of none, sticky, redis, postgres, mongo, or all; expected a strategy of the run (or *)',
      'c.yaml: expect.nnone.login-raed: unknown scenario "login-raed" (did you mean login-read?); expected one of cookie-swap, kill-node, login-read, security, my-flow, or *',
      'c.yaml: expect.nnone.login-raed.hitrate: unknown figure "hitrate" (did you mean hitRate?); expected one of hitRate, missRate, errors, failedLogins, requests, reads, sessionLoss, usersLost, recoveryMs, detectionMs, imbalance, lostUpdates, lostUpdates.rate, expiry.stale, storeFault.errorRate, storeFault.hung, storeFault.failOpen, storeFailover.lost, storeFailover.sessionsLost, storeFailover.unavailableMs, storeFailover.indeterminate, storeFailover.primariesAtOnce, replicaReads.violations, replicaReads.missing, replicaReads.stale, <login|read>.<p50|p95|p99|max>, finding.<id>',
      'c.yaml: expect.redis.login-read.finding.logout: unknown finding "logout" (did you mean logout-invalidates?); expected finding.<id> with <id> one of stolen-cookie, forged-id-read, forged-id-adopted, session-fixation, logout-invalidates, cookie-httponly, cookie-secure, cookie-samesite, cookie-path, cookie-no-domain, session-id-quality, idle-timeout',
      expect.stringMatching(/^c\.yaml: expect\.redis\.login-read\.read\.p90: unknown figure "read\.p90" \(did you mean read\.p50 or read\.p95 or read\.p99\?\); /),
      'c.yaml: expect.redis.security.finding.stolen-cookie: stolen-cookie is a fact on every strategy (a session id is a bearer token), recorded without pass or fail, so an expectation on it would judge nothing',
    ]);
  });

  it('takes every finding id, the names of the scenarios it knows, and any scenario name when it knows none', () => {
    const expectations = { '*': { security: { 'finding.logout-invalidates': 'pass', 'finding.idle-timeout': 'fail', 'finding.cookie-secure': 'n/a' }, 'my-flow': { hitRate: '>= 1' } } };
    const parsed = parseConfig({ expect: expectations }, 'c.yaml', known).expectations;
    expect(parsed.map((e) => [e.metric, e.bound])).toEqual([
      ['finding.logout-invalidates', { kind: 'finding', passed: true, text: 'pass' }],
      ['finding.idle-timeout', { kind: 'finding', passed: false, text: 'fail' }],
      ['finding.cookie-secure', { kind: 'finding', passed: null, text: 'n/a' }],
      ['hitRate', { kind: 'compare', op: '>=', value: 1, text: '>= 1' }],
    ]);
    expect(parseConfig({ expect: { '*': { 'not-known-yet': { hitRate: '>= 1' } } } }, 'c.yaml').expectations).toHaveLength(1);
    expect(problems({ expect: { '*': { 'not-known-yet': { hitRate: '>= 1' } } } })).toEqual([expect.stringMatching(/^c\.yaml: expect\.\*\.not-known-yet: unknown scenario "not-known-yet"; /)]);
  });

  it("a command from the file runs in the file's folder, one typed on the command line in the working directory", () => {
    const config = parseConfig({ 'app-cmd': 'php -S {host}:{port} app.php', 'kill-store-cmd': './kill.sh' }, 'ci/hactl.yaml');
    expect(config.dir).toBe(path.resolve('ci'));
    expect(commandDir(config, 'appCmd', new Set(), '/work')).toBe(path.resolve('ci'));
    expect(commandDir(config, 'appCmd', new Set(['appCmd']), '/work')).toBe('/work');
    expect(commandDir(config, 'killReplicaCmd', new Set(), '/work')).toBe('/work');
    expect(commandDir(undefined, 'appCmd', new Set(['appCmd']), '/work')).toBe('/work');
  });

  it('flags typed on the command line override the file; repeatable ones add to it', () => {
    const config = parseConfig({ strategy: 'redis', users: 50, 'app-env': { A: 1 } }, 'c.yaml');
    // commander hands over defaults too (users 30): only typed flags win.
    const merged = mergeFlags(config, { strategy: 'none', users: '30', appEnv: ['B=2'], replicas: '3' }, new Set(['strategy', 'appEnv']));
    expect(merged).toMatchObject({ strategy: 'none', users: '50', appEnv: ['A=1', 'B=2'], replicas: '3' });
  });

  it('strict and fail-on-findings are on when typed or when the file says true', () => {
    const keys = parseConfig({ strict: true, 'fail-on-findings': true }, 'c.yaml');
    expect(failureRules({}, keys)).toEqual({ strict: true, failOnFindings: true });
    expect(failureRules({ failOnFindings: true }, undefined)).toEqual({ strict: false, failOnFindings: true });
    expect(failureRules({}, parseConfig({ 'fail-on-findings': false }, 'c.yaml'))).toEqual({ strict: false, failOnFindings: false });
    expect(failureRules({}, undefined)).toEqual({ strict: false, failOnFindings: false });
  });

  it('takes a repeatable KEY=VALUE flag as a map or as a list of the flag\'s own form', () => {
    expect(parseConfig({ 'app-env': ['REDIS_URL={redisUrl}', 'X=a=b'] }, 'c.yaml').flags.appEnv).toEqual(['REDIS_URL={redisUrl}', 'X=a=b']);
    expect(() => parseConfig({ 'app-env': ['REDIS_URL'] }, 'c.yaml')).toThrow(/app-env/);
  });
});
