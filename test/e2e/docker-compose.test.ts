import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { request } from 'undici';
import { composeFile } from '../../dist/topology/compose.js';
import { freePort } from '../../dist/platform/ports.js';
import { chooseStrategy, type StrategyChoice } from '../../dist/strategies.js';

const run = promisify(execFile);
const docker = inject('docker');
const images = Object.fromEntries(docker.imageFlags.filter((flag) => flag !== '--image').map((pair) => pair.split('=') as [string, string]));

/** Compose v2 (`docker compose`) if the engine's CLI has it, else docker-compose v1. */
async function composeCommand(): Promise<string[] | undefined> {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    if (await run(candidate[0]!, [...candidate.slice(1), 'version']).then(() => true, () => false)) return candidate;
  }
  return undefined;
}
const compose = docker.available ? await composeCommand() : undefined;
if (docker.available && !compose) {
  if (process.env.HACTL_REQUIRE_DOCKER === '1') throw new Error('HACTL_REQUIRE_DOCKER=1 but neither `docker compose` nor docker-compose is installed');
  console.warn('compose e2e test skipped: neither `docker compose` nor docker-compose is installed');
}

/** Each request's own bound: one the stack holds (an app waiting on a store mid-failover) must not eat the test's time. */
const BOUNDED = { headersTimeout: 5_000, bodyTimeout: 5_000 } as const;

/** A user's image, as `hactl compose --app-image` takes it: the demo app tagged as an image of its own. */
const USER_IMAGE = 'hactl-test/compose-user-app:e2e';

/**
 * The generated compose file, saved outside the repository, runs under real Compose and serves the
 * demo app through hactl's balancer, or a user's image through HAProxy with nothing built.
 */
describe.skipIf(!compose).each([
  ['redis', false],
  ['postgres', false],
  ['redis:replica', false],
  ['redis:sentinel', false],
  ['redis', true],
] as const)('hactl compose --strategy %s (user image: %s)', (strategy, userApp) => {
  const project = `hactlcompose${randomBytes(3).toString('hex')}`;
  let dir: string;
  let file: string;
  let composeArgs: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-compose-'));
    file = path.join(dir, 'stack.yaml');
    composeArgs = ['-p', project, '-f', file];
    if (!userApp) return;
    const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
    const { demoAppImage } = await import('../../dist/runtime/docker/images.js');
    const { docker: engine } = await connectEngine(process.env);
    const built = await demoAppImage(engine, images.node!, { progress: () => {} });
    const [repo, tag] = USER_IMAGE.split(':');
    await engine.getImage(built).tag({ repo: repo!, tag: tag! });
  }, 180_000);

  afterAll(async () => {
    await run(compose![0]!, [...compose!.slice(1), ...composeArgs, 'down', '-v', '--remove-orphans'], { timeout: 120_000 }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }, 150_000);

  it('up, then a session written through one replica is read through every replica', async () => {
    const port = await freePort();
    const custom = userApp
      ? { custom: { image: USER_IMAGE, env: { HACTL_SESSION_STORE: 'redis', HACTL_STORE_URL: '{redisUrl}', HACTL_SESSION_SECRET: 'compose-secret' }, healthPath: '/health' }, cookieName: 'JSESSIONID' }
      : {};
    const text = composeFile({ strategy: chooseStrategy(strategy) as StrategyChoice, replicas: 3, port, images, ...custom });
    // A user's app: images only, nothing to build.
    if (userApp) expect(text).not.toMatch(/^\s+build:/m);
    await writeFile(file, text);
    await run(compose![0]!, [...compose!.slice(1), ...composeArgs, 'up', '-d', ...(userApp ? [] : ['--build'])], { timeout: 150_000 });

    const base = `http://127.0.0.1:${port}`;
    let cookie: string | undefined;
    // Replicas wait for their store (PostgreSQL initialises for a while), so allow it some time.
    for (let i = 0; i < 150 && !cookie; i++) {
      const response = await request(`${base}/login`, { ...BOUNDED, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"u1","userNm":"Kim"}' }).catch(() => undefined);
      if (response?.statusCode === 200) cookie = String(response.headers['set-cookie']).split(';')[0];
      await response?.body.dump();
      if (!cookie) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(cookie, 'the stack answered a login within 30 s').toBeDefined();
    // Replicas join the balancer's rotation as they pass its health checks (ALB's initial state;
    // while none has, the balancer fails open and a replica still starting answers 502). Wait,
    // bounded, until every replica has served the session...
    const replicas = new Set<unknown>();
    const read = async () => {
      const response = await request(`${base}/session`, { ...BOUNDED, headers: { cookie: cookie! } });
      const body = await response.body.text();
      return { status: response.statusCode, body, replica: response.headers['x-hactl-replica'] };
    };
    for (let i = 0; i < 150 && replicas.size < 3; i++) {
      const answer = await read();
      if (answer.status === 200) {
        expect(JSON.parse(answer.body)).toMatchObject({ userId: 'u1', userNm: 'Kim' });
        replicas.add(answer.replica);
        // HAProxy routes only to servers that passed their checks: the others are still joining.
        if (replicas.size < 3) await new Promise((resolve) => setTimeout(resolve, 100));
      } else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // ...then, in steady state, every read through the balancer is a hit.
    for (let i = 0; i < 9; i++) {
      const answer = await read();
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ userId: 'u1', userNm: 'Kim' });
    }
    expect(replicas).toEqual(new Set(['replica-1', 'replica-2', 'replica-3']));
    if (strategy === 'redis:replica') {
      // The apps wrote through the endpoint to redis-node-1; redis-node-2 has the session through
      // node-1's replication link (asked from an app container: the nodes publish no port).
      const ask = `const s=require('net').connect(6379,'redis-node-2');s.on('connect',()=>s.write('INFO replication\\r\\nINFO keyspace\\r\\n'));let t='';s.on('data',d=>{t+=d;if(/db0:keys=/.test(t)){console.log(t);s.destroy()}});setTimeout(()=>{console.log(t);process.exit()},5000)`;
      const { stdout } = await run(compose![0]!, [...compose!.slice(1), ...composeArgs, 'exec', '-T', 'replica-1', 'node', '-e', ask], { timeout: 30_000 });
      expect(stdout).toMatch(/role:slave/);
      expect(stdout).toMatch(/master_host:redis-link-node-1/);
      expect(stdout).toMatch(/master_link_status:up/);
      expect(stdout).toMatch(/db0:keys=[1-9]/);
    }
    if (strategy === 'redis:sentinel') {
      // The Sentinels found the primary by its link's service name; stopped, they fail it over by
      // themselves (nothing of hactl runs here) and the apps follow: a new login is served again.
      // A Sentinel learns the replicas from the primary's INFO (every 10 s) and the other Sentinels
      // from hello messages: killed before that, the primary has no replica to fail over to (the
      // compose file's header says so), so the kill waits, as hactl's own runtime does, until
      // every Sentinel names the primary, a replica and two other Sentinels (asked from an app
      // container: the Sentinels publish no port).
      const askSentinels = (primary: string, deadlineMs: number) => `
        const net = require('net');
        const ask = (host) => new Promise((resolve) => {
          const s = net.connect(26379, host); let t = '';
          const done = () => { s.destroy(); resolve(t); };
          s.on('connect', () => s.write('SENTINEL master hactl\\r\\n'));
          s.on('data', (d) => { t += d; if (/num-other-sentinels\\r\\n\\$\\d+\\r\\n\\d+\\r\\n/.test(t)) done(); });
          s.on('error', done); setTimeout(done, 1000);
        });
        const field = (t, name) => { const lines = t.split('\\r\\n'); const i = lines.indexOf(name); return i < 0 ? undefined : lines[i + 2]; };
        (async () => {
          const deadline = Date.now() + ${deadlineMs}; let states = [];
          for (;;) {
            states = await Promise.all([1, 2, 3].map(async (n) => { const t = await ask('redis-sentinel-' + n); return { ip: field(t, 'ip'), port: field(t, 'port'), replicas: Number(field(t, 'num-slaves')), sentinels: Number(field(t, 'num-other-sentinels')) }; }));
            if (states.every((s) => s.ip === '${primary}' && s.replicas >= 1 && s.sentinels === 2) || Date.now() > deadline) break;
            await new Promise((r) => setTimeout(r, 500));
          }
          console.log(JSON.stringify(states));
        })();`;
      // Until every Sentinel names `primary` with a replica and the two others, or the deadline passes: what each said last.
      const sentinelStates = async (primary: string, deadlineMs: number) => JSON.parse((await run(compose![0]!, [...compose!.slice(1), ...composeArgs, 'exec', '-T', 'replica-1', 'node', '-e', askSentinels(primary, deadlineMs)], { timeout: deadlineMs + 30_000 })).stdout) as { ip: string; port: string; replicas: number; sentinels: number }[];
      const ready = await sentinelStates('redis-link-node-1', 40_000);
      expect(ready, 'every Sentinel knows the primary, its replica and the two other Sentinels within 40 s').toEqual(Array(3).fill({ ip: 'redis-link-node-1', port: '7000', replicas: 1, sentinels: 2 }));
      await run(compose![0]!, [...compose!.slice(1), ...composeArgs, 'kill', 'redis-node-1'], { timeout: 60_000 });
      // Every replica follows: one left waiting on the dead node (as the demo app's Sentinel client
      // once was, for ever) would still let the others serve.
      const served = new Set<unknown>();
      const deadline = Date.now() + 60_000;
      while (served.size < 3 && Date.now() < deadline) {
        const response = await request(`${base}/login`, { ...BOUNDED, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"u2","userNm":"Lee"}' }).catch(() => undefined);
        if (response?.statusCode === 200) served.add(response.headers['x-hactl-replica']);
        await response?.body.dump();
        if (response?.statusCode !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (served.size < 3) expect.fail(`within 60 s of the primary's kill, only ${[...served].join(', ') || 'no replica'} served a login (the Sentinels: ${JSON.stringify(await sentinelStates('redis-link-node-2', 0))})`);
      // The Sentinels that did not lead the failover learn of it from hello messages, 2 s apart.
      const after = await sentinelStates('redis-link-node-2', 20_000);
      expect(after.map(({ ip }) => ip)).toEqual(Array(3).fill('redis-link-node-2'));
    }
  }, 300_000);
});
