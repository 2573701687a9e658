import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdmin } from './admin.js';
import { startProxy, type BalancerEvent, type RunningProxy } from './proxy.js';
import { followBalancer } from './remote.js';
import { decodeAppCookie, decodeStickyCookie } from './routing.js';
import type { BalancerSettings } from './settings.js';

/**
 * The proxy in this process, in front of tiny node:http replicas on 127.0.0.1, over real sockets.
 * Replicas answer their id; `?ms=N` delays the answer; `/login` sets JSESSIONID; `/health`
 * answers whatever status the test sets.
 */
interface Replica {
  id: string;
  port: number;
  healthStatus: number;
  /** Paths of the non-health requests it received, with when they arrived. */
  hits: Array<{ path: string; at: number }>;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)));
});

let agent: Agent;
beforeAll(() => {
  agent = new Agent({ connections: 16 });
});
afterAll(() => agent.close());

async function startReplica(id: string): Promise<Replica> {
  const replica: Replica = { id, port: 0, healthStatus: 200, hits: [] };
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    if (url.pathname === '/health') return void res.writeHead(replica.healthStatus).end();
    replica.hits.push({ path: url.pathname, at: performance.now() });
    const headers = url.pathname === '/login' ? { 'set-cookie': 'JSESSIONID=s%3Asession; Path=/; HttpOnly' } : {};
    const timer = setTimeout(() => {
      timers.delete(timer);
      res.writeHead(200, headers).end(id);
    }, Number(url.searchParams.get('ms') ?? 0));
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  replica.port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    for (const timer of timers) clearTimeout(timer);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return replica;
}

async function startReplicas(count: number): Promise<Replica[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startReplica(`replica-${i + 1}`)));
}

interface TestBalancer {
  proxy: RunningProxy;
  url: string;
  events: EventEmitter;
  waitForHealth(targetId: string, healthy: boolean, timeoutMs?: number): Promise<void>;
}

const FAST_CHECKS = { path: '/health', intervalMs: 50, timeoutMs: 100, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200' };

function testSettings(replicas: Replica[], overrides: Partial<BalancerSettings> = {}): BalancerSettings {
  return {
    host: '127.0.0.1',
    port: 0,
    targets: replicas.map((replica) => ({ id: replica.id, host: '127.0.0.1', port: replica.port })),
    algorithm: 'round_robin',
    stickiness: { type: 'off' },
    healthCheck: FAST_CHECKS,
    upstreamTimeoutMs: 5_000,
    connectTimeoutMs: 1_000,
    deregistrationDelayMs: 3_000,
    ...overrides,
  };
}

async function startBalancer(replicas: Replica[], overrides: Partial<BalancerSettings> = {}, onEvent?: (event: BalancerEvent) => void): Promise<TestBalancer> {
  const events = new EventEmitter();
  const proxy = await startProxy(testSettings(replicas, overrides), (event) => {
    onEvent?.(event);
    events.emit('event', event);
  });
  cleanups.push(() => proxy.stop());
  const waitForHealth = (targetId: string, healthy: boolean, timeoutMs = 2_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        events.off('event', listener);
        reject(new Error(`${targetId} did not become ${healthy ? 'healthy' : 'unhealthy'} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (event: BalancerEvent) => {
        if (event.type !== 'health' || event.targetId !== targetId || event.healthy !== healthy) return;
        clearTimeout(timer);
        events.off('event', listener);
        resolve();
      };
      events.on('event', listener);
    });
  return { proxy, url: `http://127.0.0.1:${proxy.port}`, events, waitForHealth };
}

interface Answer {
  status: number;
  replica: string;
  setCookies: string[];
}

async function get(balancer: TestBalancer, path: string, cookie?: string): Promise<Answer> {
  const response = await request(balancer.url + path, { dispatcher: agent, headers: cookie ? { cookie } : {}, headersTimeout: 5_000, bodyTimeout: 5_000 });
  await response.body.text();
  const setCookie = response.headers['set-cookie'];
  return {
    status: response.statusCode,
    replica: String(response.headers['x-hactl-replica']),
    setCookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
  };
}

/** A client that keeps cookies the way a browser does for one origin and path /, enough here. */
function browser(balancer: TestBalancer) {
  const jar = new Map<string, string>();
  return {
    jar,
    async get(path: string): Promise<Answer> {
      const answer = await get(balancer, path, [...jar].map(([name, value]) => `${name}=${value}`).join('; ') || undefined);
      for (const header of answer.setCookies) {
        const pair = header.split(';')[0]!;
        const eq = pair.indexOf('=');
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      return answer;
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const cookieNamed = (answer: Answer, name: string) => answer.setCookies.find((header) => header.startsWith(`${name}=`));

describe('least_outstanding_requests over real sockets', () => {
  it('sends new requests to the idle target while the other holds a slow request (round robin would alternate)', async () => {
    const replicas = await startReplicas(2);
    const balancer = await startBalancer(replicas, { algorithm: 'least_outstanding_requests' });
    const slow = get(balancer, '/slow?ms=800');
    await until(() => replicas[0]!.hits.length === 1);
    const fast: string[] = [];
    for (let i = 0; i < 4; i++) fast.push((await get(balancer, '/fast')).replica);
    expect(fast).toEqual(Array(4).fill('replica-2'));
    expect(await slow).toMatchObject({ status: 200, replica: 'replica-1' });
  });
});

describe('lb_cookie stickiness over real sockets (AWSALB, AWSALBCORS)', () => {
  it('answers with AWSALB and AWSALBCORS, and a request carrying only AWSALBCORS stays on its target', async () => {
    const replicas = await startReplicas(3);
    const balancer = await startBalancer(replicas, { stickiness: { type: 'lb_cookie', cookieName: 'AWSALB', durationSeconds: 60 } });
    const first = await get(balancer, '/');
    const cors = cookieNamed(first, 'AWSALBCORS')!;
    expect(cookieNamed(first, 'AWSALB')).toMatch(/^AWSALB=[A-Za-z0-9_-]+; Expires=[^;]+ GMT; Path=\/$/);
    expect(cors).toMatch(/^AWSALBCORS=[A-Za-z0-9_-]+; Expires=[^;]+ GMT; Path=\/; SameSite=None; Secure$/);
    const pair = cors.split(';')[0]!;
    expect(decodeStickyCookie(pair.split('=')[1]!)).toBe(first.replica);
    for (let i = 0; i < 4; i++) expect((await get(balancer, '/', pair)).replica).toBe(first.replica);
  });
});

describe('app_cookie stickiness over real sockets (AWSALBAPP)', () => {
  it('sets AWSALBAPP only once the app sets JSESSIONID, and stays on the failover target after the original returns', async () => {
    const replicas = await startReplicas(2);
    const balancer = await startBalancer(replicas, { stickiness: { type: 'app_cookie', appCookieName: 'JSESSIONID', cookieName: 'AWSALBAPP', durationSeconds: 60 } });
    const client = browser(balancer);

    const anonymous = await client.get('/plain');
    expect(anonymous.setCookies).toEqual([]);

    const login = await client.get('/login');
    const pinned = login.replica;
    expect(cookieNamed(login, 'JSESSIONID')).toBeDefined();
    expect(cookieNamed(login, 'AWSALBAPP')).toMatch(/^AWSALBAPP=[A-Za-z0-9_-]+; Expires=[^;]+ GMT; Path=\/$/);
    expect(decodeAppCookie(client.jar.get('AWSALBAPP')!)?.targetId).toBe(pinned);
    for (let i = 0; i < 3; i++) {
      const read = await client.get('/plain');
      expect(read.replica).toBe(pinned);
      expect(cookieNamed(read, 'AWSALBAPP')).toBeDefined();
    }

    const original = replicas.find((replica) => replica.id === pinned)!;
    original.healthStatus = 503;
    await balancer.waitForHealth(pinned, false);
    const failover = await client.get('/plain');
    expect(failover.status).toBe(200);
    expect(failover.replica).not.toBe(pinned);
    expect(decodeAppCookie(client.jar.get('AWSALBAPP')!)?.targetId).toBe(failover.replica);

    original.healthStatus = 200;
    await balancer.waitForHealth(pinned, true);
    for (let i = 0; i < 4; i++) expect((await client.get('/plain')).replica).toBe(failover.replica);
  });
});

describe('deregistration (ALB deregistration delay)', () => {
  it('drains: the in-flight slow request completes with 200, no new request reaches the target, drainedMs is its remaining time', async () => {
    const replicas = await startReplicas(2);
    const balancer = await startBalancer(replicas, { deregistrationDelayMs: 3_000 });
    const slow = get(balancer, '/slow?ms=800');
    await until(() => replicas[0]!.hits.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const remaining = 800 - (performance.now() - replicas[0]!.hits[0]!.at);
    const leftRotation = balancer.waitForHealth('replica-1', false);
    const drained = balancer.proxy.deregister('replica-1');
    await leftRotation;

    const during: string[] = [];
    for (let i = 0; i < 4; i++) during.push((await get(balancer, '/fast')).replica);
    expect(during).toEqual(Array(4).fill('replica-2'));

    const result = await drained;
    expect(await slow).toMatchObject({ status: 200, replica: 'replica-1' });
    expect(result.abandoned).toBe(0);
    expect(result.drainedMs).toBeGreaterThan(remaining - 100);
    expect(result.drainedMs).toBeLessThan(remaining + 400);
    expect(replicas[0]!.hits).toHaveLength(1);
  });

  it('completes at once when the target has nothing in flight', async () => {
    const replicas = await startReplicas(2);
    const balancer = await startBalancer(replicas);
    const result = await balancer.proxy.deregister('replica-2');
    expect(result.abandoned).toBe(0);
    expect(result.drainedMs).toBeLessThan(50);
  });

  it('gives up after the deregistration delay, reporting the request still in flight as abandoned', async () => {
    const replicas = await startReplicas(2);
    const balancer = await startBalancer(replicas, { deregistrationDelayMs: 300 });
    const slow = get(balancer, '/slow?ms=1500');
    await until(() => replicas[0]!.hits.length === 1);
    const result = await balancer.proxy.deregister('replica-1');
    expect(result.abandoned).toBe(1);
    expect(result.drainedMs).toBeGreaterThanOrEqual(290);
    expect(result.drainedMs).toBeLessThan(600);
    // ALB's delay ends the wait, not the request: it still finishes on its own.
    expect((await slow).status).toBe(200);
  });

  it('sends pinned AWSALB clients elsewhere while their target drains, re-pinning them', async () => {
    const replicas = await startReplicas(2);
    const balancer = await startBalancer(replicas, { stickiness: { type: 'lb_cookie', cookieName: 'AWSALB', durationSeconds: 60 } });
    const client = browser(balancer);
    const pinned = (await client.get('/')).replica;
    await balancer.proxy.deregister(pinned);
    const after = await client.get('/');
    expect(after.replica).not.toBe(pinned);
    expect(decodeStickyCookie(client.jar.get('AWSALB')!)).toBe(after.replica);
  });

  it('brings a re-registered target back in the initial state: no traffic until healthyThreshold checks pass', async () => {
    const replicas = await startReplicas(2);
    const balancer = await startBalancer(replicas);
    await balancer.proxy.deregister('replica-1');
    const healthyAgain = balancer.waitForHealth('replica-1', true);
    await balancer.proxy.register('replica-1');
    const hitsBefore = replicas[0]!.hits.length;
    expect((await get(balancer, '/')).replica).toBe('replica-2');
    expect((await get(balancer, '/')).replica).toBe('replica-2');
    expect(replicas[0]!.hits).toHaveLength(hitsBefore);
    await healthyAgain;
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await get(balancer, '/')).replica);
    expect(seen).toEqual(new Set(['replica-1', 'replica-2']));
  });

  it('refuses an unknown target with a one-line error', async () => {
    const balancer = await startBalancer(await startReplicas(1));
    await expect(balancer.proxy.deregister('replica-9')).rejects.toThrow(/no target named replica-9/);
    await expect(balancer.proxy.register('replica-9')).rejects.toThrow(/no target named replica-9/);
  });

  it('answers 503 once every target is deregistered', async () => {
    const balancer = await startBalancer(await startReplicas(1));
    await balancer.proxy.deregister('replica-1');
    expect((await get(balancer, '/')).status).toBe(503);
  });
});

describe('health check matcher over real sockets (ALB success codes)', () => {
  it('counts a 204 health answer as passing with 200-299 and as failing with the default 200', async () => {
    const [replica] = await startReplicas(1);
    replica!.healthStatus = 204;
    const ranged = await startBalancer([replica!], { initialTargetHealth: 'initial', healthCheck: { ...FAST_CHECKS, matcher: '200-299' } });
    const exact = await startBalancer([replica!], { initialTargetHealth: 'healthy' });
    await Promise.all([ranged.waitForHealth('replica-1', true), exact.waitForHealth('replica-1', false)]);
  });

  it('refuses to start with a matcher ALB would reject, or a stickiness duration outside 1 s - 7 days', async () => {
    const replicas = await startReplicas(1);
    await expect(startBalancer(replicas, { healthCheck: { ...FAST_CHECKS, matcher: '2xx' } })).rejects.toThrow(/matcher/);
    await expect(startBalancer(replicas, { stickiness: { type: 'lb_cookie', cookieName: 'AWSALB', durationSeconds: 0 } })).rejects.toThrow(/7 days/);
  });
});

describe('admin endpoints of the container balancer, followed by followBalancer', () => {
  it('deregisters over POST /targets/<id>/deregister answering the DrainResult, and registers again', async () => {
    const replicas = await startReplicas(2);
    const overrides: Partial<BalancerSettings> = { deregistrationDelayMs: 2_000 };
    // As standalone.ts does: the admin exists before the proxy so that it sees every health event.
    const admin = createAdmin(testSettings(replicas, overrides));
    const balancer = await startBalancer(replicas, overrides, (event) => admin.record(event));
    const adminPort = await admin.listen(balancer.proxy, 0, '127.0.0.1');
    cleanups.push(() => admin.close());
    const follower = await followBalancer({
      url: balancer.url,
      eventsUrl: `http://127.0.0.1:${adminPort}/events`,
      targetIds: replicas.map((replica) => replica.id),
      deregistrationDelayMs: 2_000,
    });
    cleanups.push(() => follower.stop());

    const slow = get(balancer, '/slow?ms=400');
    await until(() => replicas[0]!.hits.length === 1);
    const result = await follower.deregister('replica-1');
    expect(result.abandoned).toBe(0);
    expect(result.drainedMs).toBeGreaterThan(200);
    expect((await slow).status).toBe(200);
    await follower.waitForHealth('replica-1', false, 1_000);

    await follower.register('replica-1');
    await follower.waitForHealth('replica-1', true, 2_000);
    await expect(follower.deregister('replica-9')).rejects.toThrow(/no target named replica-9/);
  });
});
