import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { freePort, requirePhp, startHactl, type Finished, type Started } from './helpers.js';
import { expectCookieSwap, expectKillNode, expectLoginRead, row } from './oracle.js';

/**
 * Issue 6: hactl on an app not written in TypeScript. fixtures/apps/php is a PHP app on PHP's
 * built-in server, with native file sessions (one directory per replica) for none and sticky and
 * php-redis's session handler for redis; fixtures/apps/php.yaml says how to talk to it. Held to
 * DESIGN.md's table, as the demo app is. php-cli and php-redis must be installed (.ci/run does):
 * without them these tests fail, saying what to install.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAUNCHER = 'fixtures/apps/php/launch.sh';
const APP_CMD = `sh ${LAUNCHER} {port} {replica} {redisHost} {redisPort}`;
const STRATEGIES = ['none', 'sticky', 'redis', 'postgres'];



const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The child's exit, or undefined if it has not exited within `ms`. */
function exited(child: ChildProcess, ms: number): Promise<number | string | null | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

describe('the PHP app on its own: one replica from launch.sh, file sessions', () => {
  const IDLE_SECONDS = 1;
  let replica: ChildProcess;
  let base: string;
  let output = '';

  beforeAll(async () => {
    await requirePhp("the PHP app's tests");
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // In a process group of its own, as hactl starts it, so that the whole group can be stopped.
    // The launcher's own default number of workers.
    const { PHP_CLI_SERVER_WORKERS: _workers, ...env } = process.env;
    replica = spawn('sh', [LAUNCHER, String(port), 'replica-7'], {
      cwd: ROOT,
      detached: true,
      env: { ...env, SESSION_IDLE_SECONDS: String(IDLE_SECONDS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    replica.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    replica.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const status = await request(`${base}/health`, { headersTimeout: 1_000, bodyTimeout: 1_000 }).then(
        async (response) => (await response.body.dump(), response.statusCode),
        () => 0,
      );
      if (status === 200) break;
      if (replica.exitCode !== null || Date.now() > deadline) throw new Error(`the PHP replica did not answer /health within 10 s:\n${output}`);
      await sleep(100);
    }
  });

  afterAll(async () => {
    if (!replica?.pid) return;
    try {
      process.kill(-replica.pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    if ((await exited(replica, 5_000)) === undefined) process.kill(-replica.pid, 'SIGKILL');
  });

  async function call(method: 'GET' | 'POST', route: string, options: { cookie?: string; form?: Record<string, string> } = {}) {
    const headers: Record<string, string> = {};
    if (options.cookie) headers.cookie = options.cookie;
    if (options.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await request(base + route, {
      method,
      headers,
      body: options.form ? new URLSearchParams(options.form).toString() : undefined,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    const setCookie = response.headers['set-cookie'];
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown>, setCookie: Array.isArray(setCookie) ? setCookie.join('\n') : setCookie };
  }
  const login = async (userId: string, userNm: string, cookie?: string) => {
    const answer = await call('POST', '/login', { form: { userId, userNm }, ...(cookie ? { cookie } : {}) });
    expect(answer.status).toBe(200);
    expect(answer.setCookie).toBeDefined();
    return answer.setCookie!.split(';')[0]!;
  };

  it('reads nulls without a session, and sets no cookie for it', async () => {
    expect(await call('GET', '/session')).toMatchObject({ status: 200, json: { userId: null, userNm: null, replica: 'replica-7' }, setCookie: undefined });
  });

  it('logs in with a strict, HttpOnly, SameSite=Lax browser-session cookie on Path=/', async () => {
    const answer = await call('POST', '/login', { form: { userId: 'u1', userNm: 'Kim Minji' } });
    expect(answer.setCookie).toMatch(/^PHPSESSID=[0-9a-v]{32}; path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = answer.setCookie!.split(';')[0]!;
    expect((await call('GET', '/session', { cookie })).json).toEqual({ userId: 'u1', userNm: 'Kim Minji', replica: 'replica-7' });
  });

  it('never adopts an id it did not issue, and issues a new id at login', async () => {
    const forged = 'PHPSESSID=abcdefghijklmnopqrstuv0123456789';
    expect(await call('GET', '/session', { cookie: forged })).toMatchObject({ json: { userId: null }, setCookie: undefined });
    expect(await login('u2', 'Lee Seojun', forged)).not.toBe(forged);
    const before = await login('u3', 'Park Jiwoo');
    const after = await login('u3', 'Park Jiwoo', before);
    expect(after).not.toBe(before);
    expect((await call('GET', '/session', { cookie: before })).json.userId).toBeNull();
    expect((await call('GET', '/session', { cookie: after })).json.userId).toBe('u3');
  });

  it('keeps a counter in the session; POST without a session is refused', async () => {
    const cookie = await login('u4', 'Choi Yuna');
    expect((await call('POST', '/counter', { cookie })).json.counter).toBe(1);
    expect((await call('POST', '/counter', { cookie })).json.counter).toBe(2);
    expect((await call('GET', '/counter', { cookie })).json.counter).toBe(2);
    expect((await call('POST', '/counter')).status).toBe(401);
    expect((await call('GET', '/counter')).json.counter).toBe(0);
  });

  it('logout destroys the session and expires the cookie', async () => {
    const cookie = await login('u5', 'Jung Hajun');
    const answer = await call('POST', '/logout', { cookie });
    expect(answer.status).toBe(200);
    expect(answer.setCookie).toMatch(/^PHPSESSID=deleted; expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; path=\/; HttpOnly; SameSite=Lax$/);
    expect((await call('GET', '/session', { cookie })).json.userId).toBeNull();
  });

  it('enforces SESSION_IDLE_SECONDS itself: each request slides it, idling past it ends the session', async () => {
    const cookie = await login('u6', 'Kang Jiho');
    // Reads 0.6 s apart keep it alive past the timeout since login.
    for (let i = 0; i < 3; i += 1) {
      await sleep(IDLE_SECONDS * 600);
      expect((await call('GET', '/session', { cookie })).json.userId, `read ${i + 1}`).toBe('u6');
    }
    await sleep(IDLE_SECONDS * 1_000 + 300);
    const expired = await call('GET', '/session', { cookie });
    expect(expired.json.userId).toBeNull();
    expect(expired.setCookie).toMatch(/^PHPSESSID=deleted;.*Max-Age=0/);
    // Gone for good, not only hidden once.
    expect((await call('GET', '/session', { cookie })).json.userId).toBeNull();
  });

  it('runs 4 workers to serve requests in parallel, and logged no error', () => {
    expect(output).not.toMatch(/error|warning|notice|deprecated/i);
    // One "started" line per worker (PHP_CLI_SERVER_WORKERS, 4 by default) and one for the parent.
    expect(output.match(/Development Server \(http:\/\/127\.0\.0\.1:\d+\) started/g)).toHaveLength(5);
  });
});

/**
 * The command: the PHP app as 3 replicas behind hactl's balancer, 30 users, with
 * DESIGN.md's table as the oracle. The profile keeps sessions with none, sticky and redis only,
 * so the postgres rows are skipped and say why.
 */
describe('hactl run --app-profile fixtures/apps/php.yaml --app-cmd launch.sh', () => {
  let finished: Finished;
  let report: Report;
  let hactl: Started;
  let dir: string;

  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));
  beforeAll(async () => {
    await requirePhp("the PHP app's tests");
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-e2e-'));
    const out = path.join(dir, 'r.json');
    hactl = startHactl(
      ['run', '--app-profile', 'fixtures/apps/php.yaml', '--app-cmd', APP_CMD, '--strategy', STRATEGIES.join(','), '--scenario', 'login-read,kill-node,cookie-swap', '--replicas', '3', '--users', '30', '--format', 'json', '--out', out],
      {},
      120_000,
    );
    finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(0);
    report = JSON.parse(await readFile(out, 'utf8')) as Report;
  });

  it('ran PHP replicas and redis-server, and leaves nothing running', async () => {
    const seen = [...hactl.seen().values()];
    expect(seen).toEqual(expect.arrayContaining(['php', 'redis-server']));
    expect(await hactl.leftovers()).toEqual([]);
  });

  it('reports the app it ran and the command that started it', () => {
    expect(report.settings).toMatchObject({ replicas: 3, users: 30, strategies: STRATEGIES, app: { profile: 'php', command: APP_CMD } });
    expect(report.results).toHaveLength(STRATEGIES.length * 3);
  });

  it('skips postgres, naming the strategies the profile supports', () => {
    const rows = report.results.filter((r) => r.strategy === 'postgres');
    expect(rows).toHaveLength(3);
    for (const skipped of rows) {
      expect(skipped.status).toBe('skipped');
      expect(skipped.reason).toMatch(/"php".*none, sticky, redis only.*postgres/);
    }
  });

  it('spreads the users over every PHP replica', () => {
    for (const strategy of ['none', 'sticky', 'redis']) {
      expect(Object.keys(row(report, strategy, 'login-read').metrics!.requestsPerReplica).sort()).toEqual(['replica-1', 'replica-2', 'replica-3']);
    }
  });

  it.each(['none', 'sticky', 'redis'])('login-read, %s: file sessions found about 1/R of the time; with stickiness or Redis, always', (strategy) => expectLoginRead(report, strategy));
  it.each(['none', 'sticky', 'redis'])('kill-node, %s: file sessions of the killed replica are lost (about 1/R); none with Redis', (strategy) => expectKillNode(report, strategy));
  it.each(['none', 'sticky', 'redis'])('cookie-swap, %s: a stolen cookie reads the victim; strict mode refuses forged ids', (strategy) => expectCookieSwap(report, strategy));
});

/**
 * Lost updates, PHP style: file sessions are locked from session_start() to the write, so a
 * user's parallel increments wait for each other; php-redis locks only when asked
 * (SESSION_REDIS_LOCKING=1 turns redis.session.locking_enabled on). The built-in
 * concurrent-writes scenario runs as it is: its `resave: false` is the demo app's default.
 */
describe('concurrent increments: file sessions lock, php-redis only when asked', () => {
  let dir: string;

  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));
  beforeAll(async () => {
    await requirePhp("the PHP app's tests");
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-e2e-'));
  });

  async function lostUpdates(strategies: string, env: string[]): Promise<Report> {
    const out = path.join(dir, `${strategies}-${env.length}.json`);
    const args = ['run', '--app-profile', 'fixtures/apps/php.yaml', '--app-cmd', APP_CMD, ...env.flatMap((pair) => ['--app-env', pair])];
    const hactl = startHactl([...args, '--strategy', strategies, '--scenario', 'concurrent-writes', '--replicas', '3', '--users', '30', '--format', 'json', '--out', out], {}, 90_000);
    const done = await hactl.finished;
    expect(done.code, done.stderr).toBe(0);
    expect(await hactl.leftovers()).toEqual([]);
    return JSON.parse(await readFile(out, 'utf8')) as Report;
  }
  const lost = (report: Report, strategy: string) => row(report, strategy, 'concurrent-writes').metrics!.lostUpdates!;

  it('sticky (file sessions) loses no increment; redis without locking loses some', { timeout: 90_000 }, async () => {
    const report = await lostUpdates('sticky,redis', []);
    // Every increment reached the user's own session and was acknowledged, on both.
    expect(lost(report, 'sticky')).toMatchObject({ acknowledged: 30 * 8, lost: 0 });
    expect(lost(report, 'redis').acknowledged).toBe(30 * 8);
    expect(lost(report, 'redis').lost).toBeGreaterThan(0);
  });

  it('redis with SESSION_REDIS_LOCKING=1 loses none', { timeout: 90_000 }, async () => {
    const report = await lostUpdates('redis', ['SESSION_REDIS_LOCKING=1']);
    // A request that waited out the lock's retries fails (503) and is not acknowledged.
    expect(lost(report, 'redis').acknowledged).toBeGreaterThan(0);
    expect(lost(report, 'redis').lost).toBe(0);
  });
});
