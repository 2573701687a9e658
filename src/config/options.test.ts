import { describe, expect, it } from 'vitest';
import { UsageError } from '../platform/errors.js';
import type { ExternalSettings } from '../runtime/external.js';
import { DEFAULT_SCENARIOS, parseRunFlags } from './options.js';

describe('run flags', () => {
  it('defaults to every strategy, the three classic scenarios, 3 replicas and 30 users', () => {
    const settings = parseRunFlags({});
    expect(settings.strategies.map((choice) => choice.label)).toEqual(['none', 'sticky', 'redis', 'postgres', 'mongo']);
    expect(settings).toMatchObject({ balancer: 'hactl', balancerProfile: 'fast', algorithm: 'round_robin' });
    expect(settings.scenarios).toEqual(DEFAULT_SCENARIOS);
    expect(settings).toMatchObject({ replicas: 3, users: 30, reads: 10, runtime: { name: 'local', settings: {} }, format: 'table', port: 0 });
    expect(settings.seed).toBeUndefined();
  });

  it('takes docker images from HACTL_IMAGE_<KEY>, and --image over those', () => {
    const settings = parseRunFlags({ runtime: 'docker', image: ['redis=my/redis:7'] }, { HACTL_IMAGE_REDIS: 'env/redis', HACTL_IMAGE_NODE: 'env/node:20' });
    expect(settings.runtime.name).toBe('docker');
    expect(settings.runtime.settings).toEqual({ network: 'bridge', balancer: 'hactl', images: { redis: 'my/redis:7', node: 'env/node:20' } });
  });

  it("decides --docker-balancer auto at once, so that the report says where the balancer ran: beside the replicas only on a remote engine", () => {
    const where = (env: NodeJS.ProcessEnv, flag?: string) => (parseRunFlags({ runtime: 'docker', ...(flag ? { dockerBalancer: flag } : {}) }, env).runtime.settings as { balancer: string }).balancer;
    expect(where({})).toBe('hactl');
    expect(where({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toBe('hactl');
    expect(where({ DOCKER_HOST: 'tcp://10.0.0.5:2376' })).toBe('container');
    expect(where({ DOCKER_HOST: 'ssh://me@build-box' }, 'auto')).toBe('container');
    expect(where({ DOCKER_HOST: 'tcp://10.0.0.5:2376' }, 'hactl')).toBe('hactl');
  });

  it('parses comma lists, trimming spaces and dropping repeats', () => {
    expect(parseRunFlags({ strategy: 'redis, none,redis' }).strategies.map((choice) => choice.label)).toEqual(['redis', 'none']);
    expect(parseRunFlags({ scenario: 'all' }).scenarios).toBe('all');
  });

  it('takes strategy variants as name:variant, the default variant under its plain name', () => {
    const choices = parseRunFlags({ strategy: 'redis:none,redis:aof-everysec,redis:aof-always,sticky:app_cookie' }).strategies;
    expect(choices.map((choice) => choice.label)).toEqual(['redis', 'redis:aof-everysec', 'redis:aof-always', 'sticky:app_cookie']);
    expect(choices.map((choice) => choice.variant.persistence ?? choice.variant.stickiness)).toEqual(['none', 'aof-everysec', 'aof-always', 'app_cookie']);
  });

  it("bounds its waits on a deployment's own balancer by ALB's timing, which hactl cannot read from it", () => {
    expect(parseRunFlags({ runtime: 'external', target: 'http://127.0.0.1:1', strategy: 'redis' }).balancerProfile).toBe('alb');
    expect(() => parseRunFlags({ runtime: 'external', target: 'http://127.0.0.1:1', strategy: 'redis', balancerProfile: 'fast' })).toThrow("--balancer-profile: sets hactl's own balancer");
  });

  it('takes the deregistration delay in seconds, as ALB does', () => {
    expect(parseRunFlags({ deregistrationDelay: '30' }).deregistrationDelayMs).toBe(30_000);
    expect(parseRunFlags({}).deregistrationDelayMs).toBeUndefined();
  });

  it.each([
    [{ strategy: 'redis:aof' }, '--strategy: unknown variant "redis:aof" (did you mean redis:aof-everysec or redis:aof-always?); expected one of redis:none, redis:aof-everysec, redis:aof-always'],
    [{ strategy: 'redis:aof-alway' }, '--strategy: unknown variant "redis:aof-alway" (did you mean redis:aof-always?); expected one of '],
    [{ strategy: 'none,nnone' }, '--strategy: unknown strategy "nnone" (did you mean none?); expected one or more of none, sticky, redis, postgres, mongo, or all'],
    [{ runtime: 'dokcer' }, '--runtime: expected one of local, docker, external, got "dokcer" (did you mean docker?)'],
    [{ strategy: 'none:fast' }, '--strategy: strategy "none" has no variants; got "none:fast"'],
    [{ balancer: 'nginx' }, '--balancer: expected one of hactl, haproxy, got "nginx"'],
    [{ balancerProfile: 'gcp' }, '--balancer-profile: expected one of fast, alb, got "gcp"'],
    [{ deregistrationDelay: '3601' }, '--deregistration-delay: expected a whole number from 0 to 3600, got "3601"'],
    [{ algorithm: 'random' }, '--algorithm: expected one of round_robin, least_outstanding_requests, got "random"'],
    [{ strategy: 'memcached' }, '--strategy: unknown strategy "memcached"; expected one or more of none, sticky, redis, postgres, mongo, or all'],
    [{ strategy: ',' }, '--strategy: expected a comma-separated list'],
    [{ replicas: 'three' }, '--replicas: expected a whole number from 1 to 64, got "three"'],
    [{ replicas: '0' }, '--replicas: expected a whole number from 1 to 64, got "0"'],
    [{ users: '0' }, '--users: expected a whole number from 1 to 100000, got "0"'],
    [{ users: '2.5' }, '--users: expected a whole number'],
    [{ reads: '-1' }, '--reads: expected a whole number'],
    [{ runtime: 'kubernetes' }, '--runtime: expected one of local, docker, external, got "kubernetes"'],
    [{ runtime: 'docker', dockerNetwork: 'overlay' }, '--docker-network: expected one of bridge, host, got "overlay"'],
    [{ runtime: 'docker', image: ['redis'] }, '--image: expected KEY=IMAGE with KEY one of node, redis, postgres, mongo, haproxy, got "redis"'],
    [{ runtime: 'docker', image: ['memcached=memcached:1'] }, '--image: expected KEY=IMAGE with KEY one of node, redis, postgres, mongo, haproxy'],
    [{ image: ['redis=redis:7'] }, '--image, --docker-network and --docker-balancer apply to --runtime docker; this run uses --runtime local'],
    [{ format: 'xml' }, '--format: expected one of table, json, markdown, junit, html, got "xml"'],
    [{ seed: 'abc' }, '--seed: expected a whole number from 0 to 4294967295'],
    [{ port: '70000' }, '--port: expected a whole number from 0 to 65535'],
  ])('rejects %o with one line naming the flag and what it expects', (flags, message) => {
    expect(() => parseRunFlags(flags)).toThrow(UsageError);
    expect(() => parseRunFlags(flags)).toThrow(message);
  });
});

describe('app flags', () => {
  it('takes a command for local replicas, with templated environment', () => {
    expect(parseRunFlags({ appProfile: 'p.yaml', appCmd: 'php -S {host}:{port} app.php', appEnv: ['REDIS={redisHost}:{redisPort}', 'EMPTY='] }).app).toEqual({
      profileFile: 'p.yaml',
      command: 'php -S {host}:{port} app.php',
      env: { REDIS: '{redisHost}:{redisPort}', EMPTY: '' },
    });
    expect(parseRunFlags({ runtime: 'docker', appImage: 'registry.local/shop:1.2' }).app).toEqual({ image: 'registry.local/shop:1.2', env: {} });
    expect(parseRunFlags({}).app).toEqual({ env: {} });
  });

  it.each([
    [{ appCmd: 'x', appImage: 'y' }, '--app-cmd and --app-image: give one'],
    [{ runtime: 'docker', appCmd: 'x' }, '--app-cmd applies to --runtime local; with --runtime docker use --app-image IMAGE'],
    [{ appImage: 'shop:1' }, '--app-image applies to --runtime docker; with --runtime local use --app-cmd "COMMAND"'],
    [{ appEnv: ['A=1'] }, "--app-env sets the environment of your app's replicas; give --app-cmd or --app-image with it"],
    [{ appCmd: 'x', appEnv: ['1A=1'] }, '--app-env: expected KEY=VALUE with KEY letters, digits and _, got "1A=1"'],
    [{ appCmd: 'run --port {prot}' }, '--app-cmd: unknown field {prot}; expected {port}, {host}, {replica}'],
    [{ appCmd: 'x', appEnv: ['URL={redis}'] }, '--app-env URL: unknown field {redis}'],
    [{ appCmd: '  ' }, '--app-cmd: expected a shell command'],
  ])('refuses %j', (flags, message) => {
    expect(() => parseRunFlags(flags)).toThrow(UsageError);
    expect(() => parseRunFlags(flags)).toThrow(message);
  });

  it('takes --verify-cmd (with {fault}), --store-ready-cmd and --fault-timeout for --runtime external only', () => {
    const external = { runtime: 'external', target: 'http://127.0.0.1:1', strategy: 'redis' };
    expect(parseRunFlags({ ...external, killStoreCmd: 'k', verifyCmd: 'check {fault} {replica}', storeReadyCmd: 'redis-cli ping', faultTimeout: '30' }).runtime.settings).toMatchObject({
      verifyCmd: 'check {fault} {replica}',
      storeReadyCmd: 'redis-cli ping',
      faultTimeoutMs: 30_000,
    });
    expect((parseRunFlags(external).runtime.settings as ExternalSettings).faultTimeoutMs).toBeUndefined();
    expect(() => parseRunFlags({ ...external, killStoreCmd: 'k {fault}' })).toThrow('--kill-store-cmd: unknown field {fault}');
    expect(() => parseRunFlags({ ...external, storeReadyCmd: 'true' })).toThrow('--store-ready-cmd: give --kill-store-cmd too');
    expect(() => parseRunFlags({ ...external, faultTimeout: '0' })).toThrow(UsageError);
    expect(() => parseRunFlags({ verifyCmd: 'true' })).toThrow('--verify-cmd: apply to --runtime external; this run uses --runtime local');
  });
});
