import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLICA_HEADER as PROXY_REPLICA_HEADER } from '../proxy.js';
import { encodeStickyCookie } from '../routing.js';
import { FAST_CONNECT_TIMEOUT_MS, FAST_HEALTH_CHECK, type BalancerSettings, type Stickiness } from '../settings.js';
import { REPLICA_HEADER, haproxyConfig, validateHaproxySettings } from './config.js';
import { haproxyAvailability, locateHaproxy } from './index.js';

const admin = { host: '127.0.0.1', port: 9999 };

function settings(overrides: Partial<BalancerSettings> = {}): BalancerSettings {
  return {
    host: '127.0.0.1',
    port: 8080,
    targets: [1, 2, 3].map((n) => ({ id: `replica-${n}`, host: '127.0.0.1', port: 9000 + n })),
    algorithm: 'round_robin',
    stickiness: { type: 'off' },
    healthCheck: FAST_HEALTH_CHECK,
    upstreamTimeoutMs: 30_000,
    connectTimeoutMs: FAST_CONNECT_TIMEOUT_MS,
    deregistrationDelayMs: 5_000,
    ...overrides,
  };
}

/** The config's lines, trimmed, so tests read like the file. */
const lines = (config: string) => config.split('\n').map((line) => line.trim());

const LB_COOKIE: Stickiness = { type: 'lb_cookie', cookieName: 'AWSALB', durationSeconds: 86_400 };
const APP_COOKIE: Stickiness = { type: 'app_cookie', appCookieName: 'JSESSIONID', cookieName: 'AWSALBAPP', durationSeconds: 3_600 };

describe('haproxyConfig', () => {
  it('runs the runtime API on the admin address and one frontend on the balancer address', () => {
    const config = lines(haproxyConfig(settings(), admin));
    expect(config).toContain('stats socket ipv4@127.0.0.1:9999 level admin');
    expect(config).not.toContain('daemon');
    expect(config).toContain('fd-hard-limit 65536');
    expect(config).toContain('bind 127.0.0.1:8080');
    expect(config).toContain('default_backend targets');
  });

  it('takes its timeouts from the settings, the client timeout 65 s, and no retries', () => {
    const config = lines(haproxyConfig(settings({ upstreamTimeoutMs: 12_345 }), admin));
    expect(config).toContain('timeout connect 1000ms');
    expect(config).toContain('timeout server 12345ms');
    expect(config).toContain('timeout client 65000ms');
    expect(config).toContain('timeout check 150ms');
    expect(config).toContain('retries 0');
  });

  it('balances round robin, or leastconn for least_outstanding_requests', () => {
    expect(lines(haproxyConfig(settings(), admin))).toContain('balance roundrobin');
    expect(lines(haproxyConfig(settings({ algorithm: 'least_outstanding_requests' }), admin))).toContain('balance leastconn');
  });

  it('checks health as the settings say, each server named by its target id', () => {
    const config = lines(haproxyConfig(settings(), admin));
    expect(config).toContain('option httpchk GET /health');
    expect(config).toContain('http-check expect status 200');
    expect(config).toContain('default-server inter 200ms fall 2 rise 2');
    expect(config).toContain('server replica-1 127.0.0.1:9001 check');
    expect(config).toContain('server replica-3 127.0.0.1:9003 check');
  });

  it.each([
    ['200', 'http-check expect status 200'],
    ['200,302', 'http-check expect status 200,302'],
    ['200-299', 'http-check expect status 200-299'],
    ['200, 300-399', 'http-check expect status 200,300-399'],
  ])('passes the ALB matcher %s to HAProxy, which reads the same syntax', (matcher, line) => {
    expect(lines(haproxyConfig(settings({ healthCheck: { ...FAST_HEALTH_CHECK, matcher } }), admin))).toContain(line);
  });

  it('sets no stickiness without stickiness', () => {
    const config = haproxyConfig(settings(), admin);
    expect(config).not.toMatch(/^\s*cookie /m);
    expect(config).not.toMatch(/^\s*stick/m);
  });

  it('inserts the lb_cookie cookie, ignored after the duration without use, valued as hactl values AWSALB', () => {
    const config = lines(haproxyConfig(settings({ stickiness: LB_COOKIE }), admin));
    expect(config).toContain('cookie AWSALB insert indirect nocache maxidle 86400s');
    expect(config).toContain(`server replica-2 127.0.0.1:9002 check cookie ${encodeStickyCookie('replica-2')}`);
  });

  it('sticks app_cookie clients by the app cookie, learnt from responses and expiring after the duration', () => {
    const text = haproxyConfig(settings({ stickiness: APP_COOKIE }), admin);
    const config = lines(text);
    expect(config).toContain('stick-table type string len 256 size 1m expire 3600s');
    expect(config).toContain('stick match req.cook(JSESSIONID)');
    expect(config).toContain('stick store-response res.cook(JSESSIONID)');
    // The pin lives in HAProxy's table: no balancer cookie (AWSALBAPP) is inserted.
    expect(text).not.toMatch(/^\s*cookie /m);
  });

  it('tags responses with the header hactl\'s balancer uses', () => {
    expect(REPLICA_HEADER).toBe(PROXY_REPLICA_HEADER);
  });

  it('tags every response, HAProxy-made ones too, with the server or none', () => {
    const config = lines(haproxyConfig(settings(), admin));
    expect(config).toContain('http-after-response set-header x-hactl-replica %[srv_name] if { srv_name -m found }');
    expect(config).toContain('http-after-response set-header x-hactl-replica none unless { srv_name -m found }');
  });

  it('binds IPv6 addresses with an explicit family', () => {
    const config = lines(haproxyConfig(settings({ host: '::1' }), { host: '::1', port: 9999 }));
    expect(config).toContain('bind ipv6@::1:8080');
    expect(config).toContain('stats socket ipv6@::1:9999 level admin');
  });

  it.each([
    [{ port: 0 }, /concrete port/],
    [{ targets: [] }, /at least one target/],
    [{ targets: [{ id: 'replica 1', host: '127.0.0.1', port: 9001 }] }, /cannot name an HAProxy server/],
    [{ targets: [1, 1].map(() => ({ id: 'a', host: '127.0.0.1', port: 9001 })) }, /unique/],
    [{ healthCheck: { ...FAST_HEALTH_CHECK, matcher: '2xx' } }, /not ALB syntax/],
    [{ healthCheck: { ...FAST_HEALTH_CHECK, path: '/health check' } }, /no spaces/],
    [{ stickiness: { ...LB_COOKIE, durationSeconds: 0 } }, /duration/],
  ] as [Partial<BalancerSettings>, RegExp][])('refuses settings HAProxy cannot express: %j', (overrides, message) => {
    expect(validateHaproxySettings(settings(overrides))).toMatch(message);
    expect(() => haproxyConfig(settings(overrides), admin)).toThrow(message);
  });
});

describe('haproxy -c accepts the generated config', async () => {
  const availability = await haproxyAvailability(process.env);
  if (!availability.available) console.log(`skipping haproxy -c: ${availability.reason}; ${availability.fix}`);
  const binary = (await locateHaproxy(process.env)) ?? '';
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-haproxy-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const variants = (['round_robin', 'least_outstanding_requests'] as const).flatMap((algorithm) =>
    ([{ type: 'off' }, LB_COOKIE, APP_COOKIE] as Stickiness[]).flatMap((stickiness) =>
      ['200', '200,302', '200-299'].map((matcher) => ({ algorithm, stickiness, matcher })),
    ),
  );

  it.skipIf(!availability.available).each(variants)('$algorithm, stickiness $stickiness.type, matcher $matcher', async ({ algorithm, stickiness, matcher }) => {
    const file = path.join(dir, `${algorithm}-${stickiness.type}-${matcher.replace(/\W/g, '_')}.cfg`);
    await writeFile(file, haproxyConfig(settings({ algorithm, stickiness, healthCheck: { ...FAST_HEALTH_CHECK, matcher } }), admin));
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(binary, ['-c', '-f', file], { timeout: 10_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as NodeJS.ErrnoException).code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    expect(result.output).toContain('Configuration file is valid');
    // Warnings would mean HAProxy read something other than what the config says.
    expect(result.output).not.toMatch(/WARNING|ALERT/);
    expect(result.code).toBe(0);
  });

  it.skipIf(!availability.available)('with a resolver (a Docker bridge network), target names are re-resolved', async () => {
    const file = path.join(dir, 'resolver.cfg');
    const text = haproxyConfig(settings({ targets: [{ id: 'replica-1', host: 'replica-1', port: 8080 }] }), admin, { resolver: '127.0.0.11' });
    expect(text).toContain('nameserver dns 127.0.0.11:53');
    expect(text).toMatch(/server replica-1 replica-1:8080 check.* resolvers hactl init-addr last,libc,none/);
    await writeFile(file, text);
    const output = await new Promise<string>((resolve) => execFile(binary, ['-c', '-f', file], { timeout: 10_000 }, (_error, stdout, stderr) => resolve(`${stdout}${stderr}`)));
    expect(output).toContain('Configuration file is valid');
  });
});
