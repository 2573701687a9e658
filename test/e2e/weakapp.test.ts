import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requirePhp } from './helpers.js';

/**
 * weakapp on its own (fixtures/apps/weakapp): replicas started from launch.sh, a few requests per
 * mode, so that the security matrix (security-matrix.test.ts) rests on an app that has exactly the
 * weakness each mode names, and no other. php-cli and php-redis must be installed (.ci/run does).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAUNCHER = 'fixtures/apps/weakapp/launch.sh';
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/** Everything the tests start, stopped in afterAll whatever happened. */
const started: ChildProcess[] = [];

async function stopAll(): Promise<void> {
  await Promise.all(
    started.map(async (child) => {
      try {
        // The whole group: PHP's workers, and the shell in front of them.
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        return; // already gone
      }
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        try {
          process.kill(-child.pid!, 0);
        } catch {
          return;
        }
        await sleep(20);
      }
      throw new Error(`process group ${child.pid} still alive 5 s after SIGKILL`);
    }),
  );
  // Each replica's directory is named after its launcher's PID (launch.sh): remove ours.
  const base = path.join(process.env.TMPDIR ?? '/tmp', `hactl-weakapp-${os.userInfo().uid}`);
  const ours = new Set(started.map((child) => String(child.pid)));
  const dirs = await readdir(base).catch(() => [] as string[]);
  await Promise.all(dirs.filter((dir) => ours.has(dir.slice(dir.lastIndexOf('-') + 1))).map((dir) => rm(path.join(base, dir), { recursive: true, force: true })));
}

interface Replica {
  base: string;
  output: () => string;
}

/** One replica from launch.sh, in a process group of its own as hactl starts it, once /ping answers. */
async function startReplica(env: Record<string, string>, name = 'replica-2', redis?: number): Promise<Replica> {
  const port = await freePort();
  let output = '';
  const child = spawn('sh', [LAUNCHER, String(port), name, ...(redis ? ['127.0.0.1', String(redis)] : [])], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await request(`${base}/ping`, { headersTimeout: 1_000, bodyTimeout: 1_000 }).then(
      async (response) => (await response.body.dump(), response.statusCode),
      () => 0,
    );
    if (status === 204) return { base, output: () => output };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`weakapp did not answer /ping with 204 within 10 s:\n${output}`);
    await sleep(50);
  }
}

interface Answer {
  status: number;
  json?: Record<string, unknown>;
  setCookie?: string;
  contentType?: string;
}

async function call(replica: Replica, method: 'GET' | 'POST' | 'DELETE', route: string, options: { id?: string; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.id !== undefined) headers.cookie = `LABSESSION=${options.id}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const response = await request(replica.base + route, {
    method,
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
  });
  const text = await response.body.text();
  const setCookie = response.headers['set-cookie'];
  const contentType = response.headers['content-type'];
  return {
    status: response.statusCode,
    ...(text ? { json: JSON.parse(text) as Record<string, unknown> } : {}),
    ...(setCookie ? { setCookie: Array.isArray(setCookie) ? setCookie.join('\n') : setCookie } : {}),
    ...(typeof contentType === 'string' ? { contentType } : {}),
  };
}

/** Logs in (presenting `id`, if given) and returns the session id its Set-Cookie carries. */
async function login(replica: Replica, user: string, id?: string): Promise<string> {
  const answer = await call(replica, 'POST', '/api/session', { json: { login: user, display: `User ${user}` }, ...(id ? { id } : {}) });
  expect(answer.status, JSON.stringify(answer)).toBe(201);
  const match = /^LABSESSION=([^;]*);/.exec(answer.setCookie ?? '');
  expect(match, answer.setCookie).not.toBeNull();
  return match![1]!;
}

const me = async (replica: Replica, id: string) => (await call(replica, 'GET', '/api/me', { id })).status;

beforeAll(() => requirePhp("weakapp's tests"));
afterAll(stopAll);

describe('weakapp, secure (the default), sessions in files of the replica', () => {
  let app: Replica;
  beforeAll(async () => {
    app = await startReplica({ SESSION_IDLE_SECONDS: '1' });
  });

  it('answers /ping 204 without a body, and 401 without a session, setting no cookie', async () => {
    expect(await call(app, 'GET', '/ping')).toEqual({ status: 204 });
    expect(await call(app, 'GET', '/api/me')).toEqual({ status: 401, json: { error: 'not logged in', replica: 'replica-2' }, contentType: 'application/json' });
    // Not an id's shape: it never reaches a file path.
    expect((await call(app, 'GET', '/api/me', { id: '..%2F..%2Fetc%2Fpasswd' })).status).toBe(401);
    expect((await call(app, 'POST', '/api/session', { json: { login: 'u0' } })).status).toBe(400);
  });

  it('logs in with 128 random bits in lowercase hex, an HttpOnly SameSite=Lax cookie on Path=/, and reads the user', async () => {
    const answer = await call(app, 'POST', '/api/session', { json: { login: 'u1', display: 'Kim Minji' } });
    expect(answer).toMatchObject({ status: 201, json: { user: { login: 'u1', display: 'Kim Minji' }, replica: 'replica-2' } });
    expect(answer.setCookie).toMatch(/^LABSESSION=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
    const id = answer.setCookie!.slice('LABSESSION='.length, 'LABSESSION='.length + 32);
    expect(await call(app, 'GET', '/api/me', { id })).toEqual({ status: 200, json: { user: { login: 'u1', display: 'Kim Minji' }, replica: 'replica-2' }, contentType: 'application/json' });
  });

  it('issues a new id at every login, deletes the session the cookie named, and adopts no id', async () => {
    const first = await login(app, 'u2');
    const second = await login(app, 'u2', first);
    expect(second).not.toBe(first);
    expect(await me(app, first)).toBe(401);
    expect(await me(app, second)).toBe(200);
    const chosen = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    expect(await login(app, 'u3', chosen)).not.toBe(chosen);
    expect(await me(app, chosen)).toBe(401);
  });

  it('logout deletes the session and expires the cookie with the same attributes', async () => {
    const id = await login(app, 'u4');
    const answer = await call(app, 'DELETE', '/api/session', { id });
    expect(answer).toEqual({ status: 204, setCookie: 'LABSESSION=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0' });
    expect(await me(app, id)).toBe(401);
  });

  it('ends a session idle for SESSION_IDLE_SECONDS; each read slides it', async () => {
    const id = await login(app, 'u5');
    for (let i = 0; i < 3; i++) {
      await sleep(600);
      expect(await me(app, id), `read ${i + 1}, 0.6 s after the last`).toBe(200);
    }
    await sleep(1_100);
    expect(await me(app, id)).toBe(401);
  });

  it('logged no PHP error', () => {
    expect(app.output()).not.toMatch(/error|warning|notice|deprecated/i);
  });
});

describe('weakapp, one weakness at a time', () => {
  it('ID_CASE=upper: uppercase hex ids, as Tomcat issues them', async () => {
    const app = await startReplica({ ID_CASE: 'upper' });
    const id = await login(app, 'u1');
    expect(id).toMatch(/^[0-9A-F]{32}$/);
    expect(await me(app, id)).toBe(200);
  });

  it('predictable-ids: the replica number, the time and a counter', async () => {
    const app = await startReplica({ WEAKNESS: 'predictable-ids' });
    const [a, b] = [await login(app, 'u1'), await login(app, 'u2')];
    expect(a).toMatch(/^00000002[0-9a-f]{16}[0-9a-f]{8}$/);
    expect(parseInt(b.slice(24), 16)).toBe(parseInt(a.slice(24), 16) + 1);
    expect(Math.abs(parseInt(a.slice(8, 24), 16) - Date.now() / 1000)).toBeLessThan(5);
  });

  it.each(['lower', 'upper'])('adopt-ids, ID_CASE=%s: a hex id that names no session becomes the session id, in either case; a live one is replaced', async (idCase) => {
    const app = await startReplica({ WEAKNESS: 'adopt-ids', ID_CASE: idCase });
    for (const chosen of ['0123456789abcdef0123456789abcdef', '0123456789ABCDEF0123456789ABCDEF']) {
      expect(await login(app, 'u1', chosen)).toBe(chosen);
      expect(await me(app, chosen)).toBe(200);
    }
    // Not hex of 32 characters: not adopted.
    expect(await login(app, 'u2', 'g123456789abcdef0123456789abcdef')).not.toBe('g123456789abcdef0123456789abcdef');
    const issued = await login(app, 'u3');
    const next = await login(app, 'u3', issued);
    expect(next).not.toBe(issued);
    expect(await me(app, issued)).toBe(401);
  });

  it('fixation: the id of a live session is kept at login and now holds the new user; unknown ids are not adopted', async () => {
    const app = await startReplica({ WEAKNESS: 'fixation' });
    const planted = await login(app, 'attacker');
    expect(await login(app, 'victim', planted)).toBe(planted);
    expect((await call(app, 'GET', '/api/me', { id: planted })).json).toMatchObject({ user: { login: 'victim' } });
    const unknown = '0123456789abcdef0123456789abcdef';
    expect(await login(app, 'u1', unknown)).not.toBe(unknown);
  });

  it('logout-keeps-session: logout expires the cookie, and the session lives on', async () => {
    const app = await startReplica({ WEAKNESS: 'logout-keeps-session' });
    const id = await login(app, 'u1');
    expect((await call(app, 'DELETE', '/api/session', { id })).setCookie).toMatch(/Max-Age=0$/);
    expect(await me(app, id)).toBe(200);
  });

  it.each([
    ['no-httponly', 'LABSESSION=%; Path=/; SameSite=Lax'],
    ['no-samesite', 'LABSESSION=%; Path=/; HttpOnly'],
    ['samesite-none', 'LABSESSION=%; Path=/; HttpOnly; SameSite=None'],
    ['domain-cookie', 'LABSESSION=%; Path=/; HttpOnly; SameSite=Lax; Domain=127.0.0.1'],
  ])('%s: every Set-Cookie of the session cookie says %s', async (weakness, shape) => {
    const app = await startReplica({ WEAKNESS: weakness });
    const answer = await call(app, 'POST', '/api/session', { json: { login: 'u1', display: 'One' } });
    const id = /^LABSESSION=([0-9a-f]{32});/.exec(answer.setCookie ?? '')?.[1];
    expect(answer.setCookie).toBe(shape.replace('%', id ?? '?'));
    expect((await call(app, 'DELETE', '/api/session', { id: id! })).setCookie).toBe(`${shape.replace('%', '')}; Max-Age=0`);
  });

  it('no-idle-timeout: a session idle past SESSION_IDLE_SECONDS is still served', async () => {
    const app = await startReplica({ WEAKNESS: 'no-idle-timeout', SESSION_IDLE_SECONDS: '1' });
    const id = await login(app, 'u1');
    await sleep(1_300);
    expect(await me(app, id)).toBe(200);
  });

  it('an unknown WEAKNESS (or ID_CASE) is one line on stderr and exit 2, before any server starts', async () => {
    for (const [key, value, expected] of [
      ['WEAKNESS', 'sql-injection', /^weakapp: WEAKNESS: expected one of secure, predictable-ids, .*, got 'sql-injection'\n$/],
      ['ID_CASE', 'mixed', /^weakapp: ID_CASE: expected lower or upper, got 'mixed'\n$/],
    ] as const) {
      const failed = await run('sh', [LAUNCHER, String(await freePort()), 'replica-1'], { cwd: ROOT, env: { ...process.env, [key]: value }, timeout: 10_000 }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code).toBe(2);
      expect(failed?.stderr).toMatch(expected);
    }
  });
});

describe('weakapp with Redis: sessions shared by replicas, expiring with the idle timeout', () => {
  let redisPort: number;
  beforeAll(async () => {
    redisPort = await freePort();
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { detached: true, stdio: 'ignore' });
    started.push(redis);
    const deadline = Date.now() + 10_000;
    while ((await run('redis-cli', ['-p', String(redisPort), 'PING']).then((r) => r.stdout.trim(), () => '')) !== 'PONG') {
      if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
      await sleep(50);
    }
  });
  const pttl = async (id: string) => Number((await run('redis-cli', ['-p', String(redisPort), 'PTTL', `weakapp:session:${id}`])).stdout.trim());

  it('secure: a login on one replica reads on another; the key expires after the idle timeout; logout deletes it', async () => {
    const [a, b] = [await startReplica({}, 'replica-1', redisPort), await startReplica({}, 'replica-2', redisPort)];
    const id = await login(a, 'u1');
    expect((await call(b, 'GET', '/api/me', { id })).json).toMatchObject({ user: { login: 'u1' }, replica: 'replica-2' });
    const ttl = await pttl(id);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2_000);
    expect((await call(b, 'DELETE', '/api/session', { id })).status).toBe(204);
    expect(await pttl(id)).toBe(-2);
    expect(await me(a, id)).toBe(401);
  });

  it('no-idle-timeout: keys have no TTL', async () => {
    const app = await startReplica({ WEAKNESS: 'no-idle-timeout' }, 'replica-1', redisPort);
    expect(await pttl(await login(app, 'u1'))).toBe(-1);
  });
});
