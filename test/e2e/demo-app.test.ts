import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createLocalRuntime } from '../../dist/runtime/local.js';
import type { Cluster, Runtime } from '../../dist/runtime/runtime.js';
import { chooseStrategy, type StrategyChoice } from '../../dist/strategies.js';
import { planTopology } from '../../dist/topology/plan.js';

/** The bundled demo app: the classic Spring UserInfo controller on express-session, over real HTTP. */
describe('demo app', () => {
  let runtime: Runtime;
  let cluster: Cluster;
  beforeAll(async () => {
    runtime = await createLocalRuntime({ runId: 'demo-app-test', env: process.env, settings: {} });
    cluster = await runtime.startCluster(planTopology(chooseStrategy('none') as StrategyChoice, { replicas: 1, balancerPort: 0 }), undefined);
  });
  afterAll(async () => {
    await cluster.stop();
    await runtime.close();
  });

  async function call(method: 'GET' | 'POST', path: string, options: { cookie?: string; json?: unknown } = {}) {
    const headers: Record<string, string> = {};
    if (options.cookie) headers.cookie = options.cookie;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const response = await request(cluster.balancerUrl + path, { method, headers, body: options.json === undefined ? undefined : JSON.stringify(options.json) });
    const setCookie = response.headers['set-cookie'];
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown>, setCookie: Array.isArray(setCookie) ? setCookie[0] : setCookie };
  }

  it('GET /session without a session returns nulls and sets no cookie', async () => {
    const response = await call('GET', '/session');
    expect(response.json).toEqual({ userId: null, userNm: null, replica: 'replica-1' });
    expect(response.setCookie).toBeUndefined();
  });

  it('POST /login keeps {userId, userNm} in a JSESSIONID session that GET /session returns', async () => {
    const login = await call('POST', '/login', { json: { userId: 'u1', userNm: 'Kim Minji' } });
    expect(login.status).toBe(200);
    expect(login.setCookie).toMatch(/^JSESSIONID=s%3A[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    const cookie = login.setCookie!.split(';')[0]!;
    expect((await call('GET', '/session', { cookie })).json).toEqual({ userId: 'u1', userNm: 'Kim Minji', replica: 'replica-1' });
  });

  it('issues a new id at login, so a pre-login id does not carry over (no fixation)', async () => {
    const before = (await call('POST', '/counter')).setCookie!.split(';')[0]!;
    const after = (await call('POST', '/login', { cookie: before, json: { userId: 'u2', userNm: 'Lee Seojun' } })).setCookie!.split(';')[0]!;
    expect(after).not.toBe(before);
    expect((await call('GET', '/session', { cookie: before })).json.userId).toBeNull();
  });

  it('POST /counter increments a number kept in the session', async () => {
    const first = await call('POST', '/counter');
    const cookie = first.setCookie!.split(';')[0]!;
    expect(first.json.counter).toBe(1);
    expect((await call('POST', '/counter', { cookie })).json.counter).toBe(2);
    expect((await call('POST', '/counter', { cookie })).json.counter).toBe(3);
  });

  it('POST /logout destroys the session and clears the cookie', async () => {
    const cookie = (await call('POST', '/login', { json: { userId: 'u3', userNm: 'Park Jiwoo' } })).setCookie!.split(';')[0]!;
    const logout = await call('POST', '/logout', { cookie });
    expect(logout.json.loggedOut).toBe(true);
    expect(logout.setCookie).toMatch(/^JSESSIONID=; Path=\/; Expires=Thu, 01 Jan 1970/);
    expect((await call('GET', '/session', { cookie })).json.userId).toBeNull();
  });

  it('rejects a login without userId and userNm with 400 and says what it expects', async () => {
    const response = await call('POST', '/login', { json: { userId: 'u4' } });
    expect(response.status).toBe(400);
    expect(response.json.error).toBe('expected a JSON body {"userId": string, "userNm": string}');
  });

  it('GET /counter/replica without a reader endpoint answers 404 saying so, never the primary\'s session', async () => {
    const cookie = (await call('POST', '/login', { json: { userId: 'u4', userNm: 'Choi Yuna' } })).setCookie!.split(';')[0]!;
    const response = await call('GET', '/counter/replica', { cookie });
    expect(response.status).toBe(404);
    expect(response.json).toEqual({ error: 'this replica was given no reader endpoint (HACTL_STORE_READER_URL)', replica: 'replica-1' });
    expect(response.setCookie).toBeUndefined();
  });

  it('GET /health names the replica', async () => {
    expect((await call('GET', '/health')).json).toEqual({ status: 'ok', replica: 'replica-1' });
  });
});
