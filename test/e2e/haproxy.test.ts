import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLICA_HEADER } from '../../src/balancer/proxy.js';
import { FAST_CONNECT_TIMEOUT_MS, FAST_HEALTH_CHECK, type BalancerSettings, type Stickiness } from '../../src/balancer/settings.js';
import { haproxyAvailability, startHaproxyBalancer, type LocalHaproxyBalancer } from '../../src/balancer/haproxy/index.js';
import { answers200 } from '../../src/runtime/http-probe.js';
import { freePorts } from '../../src/platform/ports.js';
import { ProcessSupervisor, waitUntilReady, type Supervised } from '../../src/platform/processes.js';
import { pollUntil } from '../../src/platform/time.js';

const APP_ENTRY = fileURLToPath(new URL('../../dist/app/server.js', import.meta.url));
const IDS = ['replica-1', 'replica-2', 'replica-3'];
const LB_COOKIE: Stickiness = { type: 'lb_cookie', cookieName: 'AWSALB', durationSeconds: 86_400 };
const APP_COOKIE: Stickiness = { type: 'app_cookie', appCookieName: 'JSESSIONID', cookieName: 'AWSALBAPP', durationSeconds: 3_600 };
/** With FAST_HEALTH_CHECK a change takes about two 200 ms intervals; this leaves room for a busy machine. */
const HEALTH_WAIT_MS = 5_000;

const availability = await haproxyAvailability(process.env);
if (!availability.available) console.log(`skipping the haproxy e2e tests: ${availability.reason}; ${availability.fix}`);
if (!existsSync(APP_ENTRY)) console.log(`skipping the haproxy e2e tests: ${APP_ENTRY} is missing; run npx tsc -p tsconfig.json`);

/** A real HAProxy in front of real demo-app replicas on 127.0.0.1. */
describe.skipIf(!availability.available || !existsSync(APP_ENTRY))('haproxy balancer', () => {
  const supervisor = new ProcessSupervisor();
  const replicas = new Map<string, { port: number; process: Supervised }>();
  let runDir: string;

  async function startReplica(id: string, port: number): Promise<void> {
    // The demo app needs no extra CA, and NODE_EXTRA_CA_CERTS slows every Node start.
    const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
    const url = `http://127.0.0.1:${port}/health`;
    const child = await supervisor.spawn(`demo app ${id}`, process.execPath, [APP_ENTRY], {
      env: { ...env, HACTL_REPLICA_ID: id, HOST: '127.0.0.1', PORT: String(port), HACTL_SESSION_STORE: 'memory' },
      // The IPC channel lets a replica notice that the test process is gone and exit with it.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    replicas.set(id, { port, process: await waitUntilReady(child, () => answers200(url), { what: `${id} (${url})`, timeoutMs: 15_000, intervalMs: 20 }) });
  }

  beforeAll(async () => {
    runDir = await mkdtemp(path.join(os.tmpdir(), 'hactl-haproxy-e2e-'));
    const ports = await freePorts(IDS.length);
    await Promise.all(IDS.map((id, i) => startReplica(id, ports[i]!)));
  });
  afterAll(async () => {
    await supervisor.stopAll();
    await rm(runDir, { recursive: true, force: true });
  });

  function settings(overrides: Partial<BalancerSettings> = {}): BalancerSettings {
    return {
      host: '127.0.0.1',
      port: 0,
      targets: IDS.map((id) => ({ id, host: '127.0.0.1', port: replicas.get(id)!.port })),
      algorithm: 'round_robin',
      stickiness: { type: 'off' },
      healthCheck: FAST_HEALTH_CHECK,
      upstreamTimeoutMs: 10_000,
      connectTimeoutMs: FAST_CONNECT_TIMEOUT_MS,
      deregistrationDelayMs: 5_000,
      ...overrides,
    };
  }

  /** A balancer for one describe block, stopped after it. */
  function balancerFor(overrides: Partial<BalancerSettings> = {}) {
    const holder: { balancer: LocalHaproxyBalancer } = {} as never;
    beforeAll(async () => {
      holder.balancer = await startHaproxyBalancer(settings(overrides), { supervisor, runDir });
    });
    afterAll(() => holder.balancer?.stop());
    return holder;
  }

  async function send(balancer: LocalHaproxyBalancer, method: 'GET' | 'POST', urlPath: string, cookie?: string, body?: unknown) {
    const response = await request(balancer.url + urlPath, {
      method,
      headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.body.text();
    const setCookie = response.headers['set-cookie'];
    return {
      status: response.statusCode,
      replica: response.headers[REPLICA_HEADER] as string | undefined,
      setCookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
      json: (() => {
        try {
          return JSON.parse(text) as { replica?: string; userId?: string | null };
        } catch {
          return {};
        }
      })(),
    };
  }
  const get = (balancer: LocalHaproxyBalancer, urlPath: string, cookie?: string) => send(balancer, 'GET', urlPath, cookie);
  /** `name=value` of the Set-Cookie for `name`, as a client would send it back. */
  const cookiePair = (setCookies: string[], name: string) => setCookies.find((header) => header.startsWith(`${name}=`))?.split(';')[0];

  async function replicasOf(balancer: LocalHaproxyBalancer, count: number, cookie?: string): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < count; i++) {
      const response = await get(balancer, '/health', cookie);
      expect(response.status).toBe(200);
      seen.push(String(response.replica));
    }
    return seen;
  }

  describe('round robin', () => {
    const held = balancerFor();

    it('spreads consecutive requests over replica 1, 2, 3 in turn, tagging each with the replica that served it', async () => {
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        const response = await get(held.balancer, '/health');
        expect(response.status).toBe(200);
        expect(response.replica).toBe(response.json.replica);
        expect(response.setCookies).toEqual([]);
        seen.push(String(response.replica));
      }
      // HAProxy starts its rotation where it likes; after that the order repeats.
      expect([...seen.slice(0, 3)].sort()).toEqual(IDS);
      expect(seen.slice(3)).toEqual(seen.slice(0, 3));
    });
  });

  describe('least_outstanding_requests (leastconn)', () => {
    const held = balancerFor({ algorithm: 'least_outstanding_requests' });

    it('rotates over all replicas while none has requests outstanding', async () => {
      expect(new Set(await replicasOf(held.balancer, 6))).toEqual(new Set(IDS));
    });
  });

  describe('lb_cookie stickiness', () => {
    const held = balancerFor({ stickiness: LB_COOKIE });

    it('pins a client to one replica with its cookie, while a client without it rotates', async () => {
      const first = await get(held.balancer, '/health');
      const cookie = cookiePair(first.setCookies, 'AWSALB');
      expect(cookie).toBeDefined();
      expect(new Set(await replicasOf(held.balancer, 6, cookie))).toEqual(new Set([first.replica]));
      expect(new Set(await replicasOf(held.balancer, 3))).toEqual(new Set(IDS));
    });

    it('keeps a logged-in user on the replica that holds the session in memory', async () => {
      const login = await send(held.balancer, 'POST', '/login', undefined, { userId: 'u1', userNm: 'User One' });
      expect(login.status).toBe(200);
      const cookie = [cookiePair(login.setCookies, 'AWSALB'), cookiePair(login.setCookies, 'JSESSIONID')].join('; ');
      for (let i = 0; i < 6; i++) {
        const read = await get(held.balancer, '/session', cookie);
        expect(read.replica).toBe(login.replica);
        expect(read.json.userId).toBe('u1');
      }
    });
  });

  describe('app_cookie stickiness (stick table on the app cookie)', () => {
    const held = balancerFor({ stickiness: APP_COOKIE });

    it('pins a client once the app set its cookie, and not before', async () => {
      expect(new Set(await replicasOf(held.balancer, 3))).toEqual(new Set(IDS));
      const login = await send(held.balancer, 'POST', '/login', undefined, { userId: 'u2', userNm: 'User Two' });
      const cookie = cookiePair(login.setCookies, 'JSESSIONID');
      expect(cookie).toBeDefined();
      for (let i = 0; i < 6; i++) {
        const read = await get(held.balancer, '/session', cookie);
        expect(read.replica).toBe(login.replica);
        expect(read.json.userId).toBe('u2');
      }
    });
  });

  describe('health checks', () => {
    const held = balancerFor();

    it('marks a killed replica unhealthy, skips it, and takes it back once it answers again', async () => {
      const { balancer } = held;
      expect(balancer.isHealthy('replica-2')).toBe(true);
      const killedAt = Date.now();
      await replicas.get('replica-2')!.process.kill('SIGKILL');
      // Until HAProxy notices, about a third of requests reach the dead replica: HAProxy answers
      // 503 (ALB: 502), still tagged with the replica. Round robin sends one of any three in a
      // row there, so three requests made before HAProxy notices include one; requests made
      // after it noticed reach only the others, and the test cannot tell those apart, so it
      // looks until one reached replica-2 or HAProxy took it out (then the kill came too late
      // for this check and the test says so).
      const answers: Array<{ status: number; replica: string | undefined }> = [];
      while (!answers.some((answer) => answer.replica === 'replica-2') && balancer.isHealthy('replica-2') && answers.length < 30) {
        const response = await get(balancer, '/health');
        answers.push({ status: response.status, replica: response.replica });
      }
      for (const answer of answers) expect(answer.status, JSON.stringify(answers)).toBe(answer.replica === 'replica-2' ? 503 : 200);
      expect(answers.filter((answer) => answer.replica === 'replica-2'), `no request reached the dead replica before HAProxy noticed: ${JSON.stringify(answers)}`).toHaveLength(1);
      const down = await balancer.waitForHealth('replica-2', false, HEALTH_WAIT_MS);
      expect(down.at - killedAt).toBeLessThan(HEALTH_WAIT_MS);
      expect(balancer.isHealthy('replica-2')).toBe(false);
      expect(await replicasOf(balancer, 6)).not.toContain('replica-2');

      await startReplica('replica-2', replicas.get('replica-2')!.port);
      await balancer.waitForHealth('replica-2', true, HEALTH_WAIT_MS);
      expect(await replicasOf(balancer, 3)).toContain('replica-2');
    });
  });

  describe("ALB's initial target state", () => {
    const held = balancerFor({ initialTargetHealth: 'initial' });

    it('starts every target out of rotation until `rise` checks pass', async () => {
      const { balancer } = held;
      expect(IDS.map((id) => balancer.isHealthy(id))).toEqual([false, false, false]);
      await Promise.all(IDS.map((id) => balancer.waitForHealth(id, true, HEALTH_WAIT_MS)));
      expect(new Set(await replicasOf(balancer, 3))).toEqual(new Set(IDS));
    });
  });

  describe('deregistration and registration', () => {
    const held = balancerFor({ stickiness: LB_COOKIE });

    it('drains: the request in flight finishes, no new request reaches the replica, pinned or not', async () => {
      const { balancer } = held;
      const pinned = await get(balancer, '/health');
      const target = String(pinned.replica);
      const cookie = cookiePair(pinned.setCookies, 'AWSALB')!;
      const slow = slowLogin(new URL(balancer.url), cookie);
      await pollUntil(async () => ((await balancer.admin.showServers()).find((s) => s.server === target)!.current > 0 ? true : undefined), {
        timeoutMs: 5_000,
        intervalMs: 20,
        onTimeout: () => new Error(`the slow request never reached ${target}`),
      });

      const drained = balancer.deregister(target);
      expect(balancer.isHealthy(target)).toBe(false);
      // The runtime API call is on its way; from its answer on, HAProxy sends the target nothing new.
      await pollUntil(async () => ((await balancer.admin.showServers()).find((s) => s.server === target)!.state === 'MAINT' ? true : undefined), {
        timeoutMs: 2_000,
        intervalMs: 5,
        onTimeout: () => new Error(`${target} did not go to MAINT`),
      });
      // A pinned client moves elsewhere, as ALB sends nothing to a deregistered target.
      expect(await replicasOf(balancer, 4, cookie)).not.toContain(target);
      expect(await replicasOf(balancer, 4)).not.toContain(target);

      const answer = await slow.finish();
      expect(answer.status).toBe(200);
      expect(answer.replica).toBe(target);
      const result = await drained;
      expect(result.abandoned).toBe(0);
      expect(result.drainedMs).toBeGreaterThan(0);
      expect(result.drainedMs).toBeLessThan(5_000);
      expect(await balancer.deregister(target)).toEqual({ drainedMs: 0, abandoned: 0 });
    });

    it('registers the replica again: out of rotation until `rise` checks pass, then serving', async () => {
      const { balancer } = held;
      const target = (await balancer.admin.showServers()).find((s) => s.state === 'MAINT')!.server;
      const registeredAt = Date.now();
      await balancer.register(target);
      expect(balancer.isHealthy(target)).toBe(false);
      expect(await replicasOf(balancer, 3)).not.toContain(target);
      const up = await balancer.waitForHealth(target, true, HEALTH_WAIT_MS);
      // Two passing checks 200 ms apart: HAProxy did not put it straight back.
      expect(up.at - registeredAt).toBeGreaterThanOrEqual(FAST_HEALTH_CHECK.intervalMs * (FAST_HEALTH_CHECK.healthyThreshold - 1) - 50);
      expect(await replicasOf(balancer, 6)).toContain(target);
    });
  });

  describe('deregistration delay', () => {
    const held = balancerFor({ stickiness: LB_COOKIE, deregistrationDelayMs: 300 });

    it('gives up after the delay, counting the request still in flight as abandoned', async () => {
      const { balancer } = held;
      const pinned = await get(balancer, '/health');
      const target = String(pinned.replica);
      const slow = slowLogin(new URL(balancer.url), cookiePair(pinned.setCookies, 'AWSALB')!);
      await pollUntil(async () => ((await balancer.admin.showServers()).find((s) => s.server === target)!.current > 0 ? true : undefined), {
        timeoutMs: 5_000,
        intervalMs: 20,
        onTimeout: () => new Error(`the slow request never reached ${target}`),
      });
      const result = await balancer.deregister(target);
      expect(result.abandoned).toBe(1);
      expect(result.drainedMs).toBeGreaterThanOrEqual(300);
      expect(result.drainedMs).toBeLessThan(2_000);
      // HAProxy does not cut the abandoned request off (nor does hactl's balancer).
      expect((await slow.finish()).status).toBe(200);
      await balancer.register(target);
      await balancer.waitForHealth(target, true, HEALTH_WAIT_MS);
    });

    it('answers 503 tagged none when no server is left', async () => {
      const { balancer } = held;
      await Promise.all(IDS.map((id) => balancer.deregister(id)));
      const response = await get(balancer, '/health');
      expect(response.status).toBe(503);
      expect(response.replica).toBe('none');
    });
  });

  describe('start-up', () => {
    it('fails in one line naming the cause when the port is taken', async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as net.AddressInfo).port;
      try {
        const start = startHaproxyBalancer(settings({ port }), { supervisor, runDir });
        await expect(start).rejects.toThrow(new RegExp(`^haproxy on 127\\.0\\.0\\.1:${port} exited during start-up: [^\\n]*Address already in use[^\\n]*$`));
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    });
  });

  describe('failure', () => {
    const held = balancerFor();

    it('reports an HAProxy that died, and fails waits instead of letting them run out', async () => {
      const { balancer } = held;
      expect(balancer.failure()).toBeUndefined();
      await balancer.process.kill('SIGKILL');
      await pollUntil(() => balancer.failure(), { timeoutMs: 2_000, intervalMs: 10, onTimeout: () => new Error('no failure reported') });
      expect(balancer.failure()).toMatch(/^haproxy on 127\.0\.0\.1:\d+ exited unexpectedly \(signal SIGKILL\)/);
      await expect(balancer.waitForHealth('replica-1', false, HEALTH_WAIT_MS)).rejects.toThrow(/exited unexpectedly/);
    });
  });
});

/**
 * POST /login whose body arrives in two parts: HAProxy forwards the request at once and the app
 * waits for the rest, so the request stays in flight on its replica until finish() sends it.
 */
function slowLogin(url: URL, cookie: string) {
  const body = JSON.stringify({ userId: 'slow', userNm: 'Slow User' });
  const socket = net.connect({ host: url.hostname, port: Number(url.port) });
  let raw = '';
  socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  socket.on('error', () => undefined);
  socket.write(
    `POST /login HTTP/1.1\r\nHost: ${url.host}\r\nCookie: ${cookie}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`,
  );
  return {
    async finish(): Promise<{ status: number; replica: string | undefined }> {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(body.slice(5));
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      socket.destroy();
      return {
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0),
        replica: new RegExp(`^${REPLICA_HEADER}: (.*)$`, 'mi').exec(raw)?.[1]?.trim(),
      };
    },
  };
}
