import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/driver/records.js';
import { answers200 } from '../../src/runtime/http-probe.js';
import { freePorts } from '../../src/platform/ports.js';
import { pollUntil } from '../../src/platform/time.js';
import type { Report } from '../../src/report/model.js';
import { runHactl, STACK_LINE } from './helpers.js';
import { row } from './oracle.js';

const APP_ENTRY = fileURLToPath(new URL('../../dist/app/server.js', import.meta.url));
const PATH = `${process.env.PATH}:/usr/local/sbin:/usr/sbin`;
/** Where the demo app keeps its sessions in Redis (connect-redis's prefix in src/app/stores/redis.ts). */
const SESSION_KEYS = 'hactl:sess:*';

/** The most sends any closed one-second window holds. */
function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while (sorted[to]! - sorted[from]! > 1_000) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

/** 40 test accounts; names with a comma and passwords with a quote, as a real CSV export has. */
const ACCOUNTS = ['userId,userNm,password', ...Array.from({ length: 40 }, (_, i) => `csv-${String(i + 1).padStart(4, '0')},"Kim, No.${i + 1}","pw""${i + 1}"`)].join('\n') + '\n';

const profile = (logout: boolean) =>
  [
    'name: demo-accounts',
    'cookie: JSESSIONID',
    "sessionId: '^s:([^.]+)\\.'",
    'health: /health',
    'users: accounts.csv',
    "login: { method: POST, path: /login, json: { userId: '{{userId}}', userNm: '{{userNm}}', password: '{{password}}' } }",
    "read: { method: GET, path: /session, hit: { status: 200, json: { '$.userId': '{{userId}}', '$.userNm': '{{userNm}}' } } }",
    ...(logout ? ['logout: { method: POST, path: /logout }'] : []),
  ].join('\n') + '\n';

/**
 * What hactl leaves in and sends to a deployment it did not build: two demo-app replicas on one
 * Redis behind a real HAProxy, started by the test; the Redis is read directly afterwards.
 */
describe('load on a live deployment: logout at the end, test accounts, --rate', () => {
  let dir: string;
  let target: string;
  let redisPort: number;
  const servers: ChildProcess[] = [];
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  const redis = (...args: string[]) => execFileSync('redis-cli', ['-p', String(redisPort), ...args], { env: { ...env, PATH }, encoding: 'utf8' }).trim();
  const sessionKeys = () => redis('--scan', '--pattern', SESSION_KEYS).split('\n').filter((key) => key !== '');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-load-'));
    const [store, balancerPort, ...replicaPorts] = await freePorts(4);
    redisPort = store!;
    servers.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore', env: { ...env, PATH } }));
    replicaPorts.forEach((port, i) =>
      servers.push(
        spawn(process.execPath, [APP_ENTRY], {
          stdio: 'ignore',
          env: { ...env, PORT: String(port), HACTL_REPLICA_ID: `replica-${i + 1}`, HACTL_SESSION_STORE: 'redis', HACTL_STORE_URL: `redis://127.0.0.1:${redisPort}` },
        }),
      ),
    );
    await writeFile(
      path.join(dir, 'haproxy.cfg'),
      [
        'defaults',
        '  mode http',
        '  timeout connect 1s',
        '  timeout client 10s',
        '  timeout server 10s',
        'frontend web',
        `  bind 127.0.0.1:${balancerPort}`,
        '  default_backend app',
        'backend app',
        '  balance roundrobin',
        ...replicaPorts.map((port, i) => `  server replica-${i + 1} 127.0.0.1:${port}`),
      ].join('\n') + '\n',
    );
    servers.push(spawn('haproxy', ['-f', path.join(dir, 'haproxy.cfg')], { stdio: 'ignore', env: { ...env, PATH } }));
    await writeFile(path.join(dir, 'accounts.csv'), ACCOUNTS);
    await writeFile(path.join(dir, 'with-logout.yaml'), profile(true));
    await writeFile(path.join(dir, 'no-logout.yaml'), profile(false));
    target = `http://127.0.0.1:${balancerPort}`;
    let streak = 0;
    await pollUntil(async () => ((streak = (await answers200(`${target}/health`)) ? streak + 1 : 0) >= 4 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 100,
      onTimeout: () => new Error(`the deployment at ${target} did not come up`),
    });
    await pollUntil(async () => (redis('ping') === 'PONG' ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, onTimeout: () => new Error('redis did not come up') });
  });

  afterAll(async () => {
    for (const server of servers) server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const runExternal = async (args: string[]) => {
    const out = path.join(dir, `report-${Date.now()}.json`);
    const samples = path.join(dir, `samples-${Date.now()}.jsonl`);
    const result = await runHactl(['run', '--runtime', 'external', '--target', target, '--strategy', 'redis', '--replicas', '2', '--seed', '5', '--format', 'json', '--out', out, '--samples', samples, ...args]);
    const report = result.code === 0 ? (JSON.parse(await readFile(out, 'utf8')) as Report) : undefined;
    const sent = report ? (await readFile(samples, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Sample) : [];
    return { ...result, report, sent };
  };

  it("logs in with the accounts file's rows, in order, and without a logout leaves their sessions (no warm-up on a deployment)", async () => {
    redis('flushall');
    // No pre-flight: its user would leave a 31st session, which this profile cannot log out either.
    const { code, stderr, report } = await runExternal(['--app-profile', path.join(dir, 'no-logout.yaml'), '--scenario', 'login-read', '--users', '30', '--no-preflight']);
    expect(code, stderr).toBe(0);
    expect(report!.settings).toMatchObject({ warmUp: false, accounts: path.join(dir, 'accounts.csv') });
    expect(row(report!, 'redis', 'login-read').metrics!.hitRate).toBe(1);
    expect(row(report!, 'redis', 'login-read').timings!.logouts).toBeUndefined();
    // No warm-up: exactly one session per scenario user, each the account of its row.
    const keys = sessionKeys();
    expect(keys).toHaveLength(30);
    const users = keys.map((key) => (JSON.parse(redis('get', key)) as { user: { userId: string; userNm: string } }).user).sort((a, b) => a.userId.localeCompare(b.userId));
    expect(users).toEqual(Array.from({ length: 30 }, (_, i) => ({ userId: `csv-${String(i + 1).padStart(4, '0')}`, userNm: `Kim, No.${i + 1}` })));
    redis('flushall');
  });

  it('leaves no session in the deployment after login-read, cookie-swap and security (warm-up asked for): every one logged out', async () => {
    redis('flushall');
    const { code, stderr, report } = await runExternal(['--app-profile', path.join(dir, 'with-logout.yaml'), '--scenario', 'login-read,cookie-swap,security', '--users', '30', '--warm-up', '--id-sample', '50']);
    expect(code, stderr).toBe(0);
    expect(sessionKeys()).toEqual([]);
    expect(report!.settings).toMatchObject({ warmUp: true, idSample: 50 });
    for (const scenario of ['login-read', 'cookie-swap', 'security']) {
      const logouts = row(report!, 'redis', scenario).timings!.logouts!;
      // The warm-up's 40 throwaway users (20 per replica) and the 30 scenario users at least.
      expect(logouts.sessions, scenario).toBeGreaterThanOrEqual(70);
      expect(logouts).toMatchObject({ sent: logouts.sessions, failed: 0 });
      expect(stderr).toContain(`redis × ${scenario}: logged out ${logouts.sessions} of ${logouts.sessions} sessions hactl made`);
    }
    // The id-quality sample's 50 fresh logins were logged out too.
    expect(row(report!, 'redis', 'security').timings!.logouts!.sessions).toBeGreaterThanOrEqual(70 + 50);
    const quality = row(report!, 'redis', 'security').findings!.find((finding) => finding.id === 'session-id-quality')!;
    expect(quality.evidence).toMatchObject({ logins: 50, ids: 50 });
    expect(quality.passed).toBeNull();
    expect(quality.summary).toContain('a sample of 50 ids is too small to judge entropy (1000 needed)');
  });

  it('--rate 40 holds every sliding second of the users\' requests to 40 (60 of them, all at once without it); the logouts go through the same limiter', async () => {
    redis('flushall');
    const { code, stderr, report, sent } = await runExternal(['--app-profile', path.join(dir, 'with-logout.yaml'), '--scenario', 'login-read', '--users', '10', '--reads', '5', '--rate', '40']);
    expect(code, stderr).toBe(0);
    expect(report!.settings.rate).toBe(40);
    expect(sessionKeys()).toEqual([]);
    // 10 logins and 50 reads, which unlimited go within a fraction of a second.
    expect(sent).toHaveLength(60);
    expect(busiestSecond(sent.map((sample) => sample.at))).toBeLessThanOrEqual(40);
    // The logouts came after the last read, in the same budget: 70 requests at 40 a second take more than a second.
    const logouts = row(report!, 'redis', 'login-read').timings!.logouts!;
    expect(logouts).toMatchObject({ sessions: 10, sent: 10, failed: 0 });
    expect(Math.max(...sent.map((sample) => sample.at)) - Math.min(...sent.map((sample) => sample.at))).toBeGreaterThan(1_000);
  });

  it('refuses more users than the accounts file has, with one line and exit 2', async () => {
    const { code, stderr } = await runHactl(['run', '--runtime', 'external', '--target', target, '--strategy', 'redis', '--app-profile', path.join(dir, 'with-logout.yaml'), '--users', '41']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(`hactl: ${path.join(dir, 'accounts.csv')} has 40 accounts; --users 41 needs 41 (add rows, or lower --users)`);
    expect(stderr).not.toMatch(STACK_LINE);
  });
});

describe('--rate on the local runtime', () => {
  it('keeps every sliding second of login-read at or under 200 sends, and the limit binds', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-rate-'));
    try {
      const out = path.join(dir, 'report.json');
      const samples = path.join(dir, 'samples.jsonl');
      const { code, stderr } = await runHactl(['run', '--strategy', 'none', '--scenario', 'login-read', '--rate', '200', '--seed', '9', '--quiet', '--format', 'json', '--out', out, '--samples', samples]);
      expect(code, stderr).toBe(0);
      const report = JSON.parse(await readFile(out, 'utf8')) as Report;
      expect(report.settings).toMatchObject({ rate: 200, warmUp: true });
      const sent = (await readFile(samples, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Sample);
      expect(sent).toHaveLength(330);
      const busiest = busiestSecond(sent.map((sample) => sample.at));
      expect(busiest).toBeLessThanOrEqual(200);
      // Unlimited, login-read sends its 330 requests in well under a second here: the cap is what held it.
      expect(busiest).toBeGreaterThan(150);
      // Latency counts from the send, not the queue: waiting for the limiter shows in no latency.
      expect(Math.max(...sent.map((sample) => sample.latencyMs))).toBeLessThan(1_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
