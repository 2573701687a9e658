#!/usr/bin/env node
// Benchmark: how many requests/s hactl's driver can send, beside autocannon's ceiling.
// Target (issue 8): the driver (its HTTP/1.1 client + one tough-cookie jar per virtual user, the order and
// bookkeeping a read phase uses) reaches at least 0.8 x autocannon's requests/s, both at the
// concurrency a run uses, against the same fixed fast target.
//
// The target is a tiny node:http server in a child process: POST /login sets a session cookie,
// GET /session answers the user's JSON and slides the cookie (Set-Cookie on every answer, as the
// demo app's rolling session does), so the driver's jars parse and store a cookie every time.
// autocannon sends the same GET /session with no cookies: the most this machine's loopback and
// target give one event loop.
//   node bench/driver-capacity.mjs [--rounds N] [--seconds S] [--concurrency C] [--users U] [--label L]
// HACTL_DIST=<dir> measures another build of hactl; --baseline <dir> adds the driver of another
// build (e.g. the code before a change) to the same rounds, so that before and after meet the
// same machine; --label L writes bench/results/driver-capacity-L.json.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childEnv, stopChild, waitForOutput } from './children.mjs';
import { processCpuSeconds } from './process-cpu.mjs';
import { median, percentile } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.resolve(process.env.HACTL_DIST ?? path.join(root, 'dist'));
const load = (file) => import(pathToFileURL(path.join(dist, file)).href);
const baseline = process.argv.includes('--baseline') ? path.resolve(process.argv[process.argv.indexOf('--baseline') + 1]) : undefined;
const [{ Driver, classifyAction }, { runInOrder, interleave }, { makeUsers }, { createRng }, { demoProfile }, { readAs }, { DEFAULTS }] = await Promise.all([
  load('driver/driver.js'),
  load('driver/order.js'),
  load('driver/users.js'),
  load('driver/rng.js'),
  load('app/profile.js'),
  load('driver/phase.js'),
  load('config/options.js'),
]);

const flag = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const label = process.argv.includes('--label') ? process.argv[process.argv.indexOf('--label') + 1] : undefined;
const rounds = flag('rounds', 5);
const seconds = flag('seconds', 3);
const concurrency = flag('concurrency', DEFAULTS.concurrency);
const userCount = flag('users', DEFAULTS.users);
// Whatever the code under test does on its first requests (JIT, connections) is left out.
const WARM_UP_SECONDS = 1;
const START_TIMEOUT_MS = 10_000;

// The fixed fast target: sessions in a Map, a cookie on every answer.
const TARGET_SOURCE = `
const http = require('node:http');
const { randomBytes } = require('node:crypto');
const sessions = new Map();
const cookieOf = (header) => /(?:^|;\\s*)sid=([^;]+)/.exec(header ?? '')?.[1];
const setCookie = (sid) => 'sid=' + sid + '; Path=/; HttpOnly; SameSite=Lax; Max-Age=1800';
const server = http.createServer((req, res) => {
  const sid = cookieOf(req.headers.cookie);
  if (req.method === 'POST' && req.url === '/login') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const user = JSON.parse(body);
      const fresh = randomBytes(16).toString('base64url');
      sessions.delete(sid);
      sessions.set(fresh, user);
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': setCookie(fresh), 'x-hactl-replica': 'target' });
      res.end(JSON.stringify(user));
    });
    return;
  }
  const user = sid === undefined ? undefined : sessions.get(sid);
  const headers = { 'content-type': 'application/json', 'x-hactl-replica': 'target' };
  if (user) headers['set-cookie'] = setCookie(sid);
  res.writeHead(200, headers);
  res.end(JSON.stringify({ userId: user?.userId ?? null, userNm: user?.userNm ?? null }));
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
process.on('disconnect', () => process.exit(0));
`;

/** Starts the target; the IPC channel makes it exit if this benchmark dies. */
async function startTarget() {
  const child = spawn(process.execPath, ['-e', TARGET_SOURCE], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const [, port] = await waitForOutput(child, 'target', /listening (\d+)/, START_TIMEOUT_MS);
  return { child, url: `http://127.0.0.1:${port}` };
}

/** CPU time (user + system) this process spent per request: the client's cost apart from how busy the machine is. */
const cpuPerRequest = (usage, requests) => (usage.user + usage.system) / requests;
/**
 * The target's CPU µs per request since `before`: the two cores are shared, so what answering a
 * client's requests costs the target (cookies or none) bounds that client's rate as well.
 */
const targetCpuPerRequest = (target, before, requests) => ((processCpuSeconds(target.child.pid) - before) * 1e6) / requests;

/** autocannon at `concurrency` connections, no cookies; latencies from its per-response event (µs resolution, where its histogram keeps whole ms). */
async function cannon(target, durationSeconds) {
  const latencies = [];
  const cpuBefore = process.cpuUsage();
  const targetBefore = processCpuSeconds(target.child.pid);
  const instance = autocannon({ url: `${target.url}/session`, connections: concurrency, pipelining: 1, duration: durationSeconds });
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await instance;
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`autocannon against ${target.url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  const cpuUsPerRequest = cpuPerRequest(process.cpuUsage(cpuBefore), latencies.length);
  const targetCpuUsPerRequest = targetCpuPerRequest(target, targetBefore, latencies.length);
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, rps: latencies.length / durationSeconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuUsPerRequest, targetCpuUsPerRequest };
}

/**
 * hactl's Driver: the users log in once, then read their own session (the demo profile's read,
 * each answer classified hit or miss against the user's identity) until the time is up.
 * `driver`: `concurrency` loops, each with its own users in turn, so that `concurrency` requests
 * are always in flight, as autocannon keeps its connections busy; the target is on this one.
 * `read-phase`: the same reads in a read phase's seeded interleaving through runInOrder, which
 * holds the line while the next user still waits for an answer, so fewer are in flight (for
 * information: the order a run keeps costs rate the driver itself does not).
 */
async function driver(target, durationSeconds, mode, build = { Driver, makeUsers }) {
  const Client = build.Driver;
  const { url } = target;
  const controller = new AbortController();
  const rng = createRng(7);
  const users = build.makeUsers(userCount, rng.fork('users'));
  const options = { scenario: 'bench', concurrency, requestTimeoutMs: DEFAULTS.requestTimeoutMs, signal: controller.signal };
  const client = new Client(url, options);
  try {
    const login = users.map((user) => ({ user: user.index, run: async () => void (await client.send(user.jar, demoProfile.login(user.identity), { phase: 'login', kind: 'login', user: user.index }, classifyAction)) }));
    await runInOrder(login, concurrency, controller.signal);
    const context = { phase: 'read', kind: 'read', driver: client, profile: demoProfile };
    const read = (user) => readAs(context, user.index, user.jar, user.identity);
    const first = client.samples.length;
    const startedAt = performance.now();
    const cpuBefore = process.cpuUsage();
    const targetBefore = processCpuSeconds(target.child.pid);
    const running = () => performance.now() - startedAt < durationSeconds * 1000;
    if (mode === 'driver') {
      const loop = async (lane) => {
        const own = users.filter((user) => user.index % concurrency === lane);
        for (let i = 0; running(); i++) await read(own[i % own.length]);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, (_, lane) => loop(lane)));
    } else {
      const order = interleave(users.map((user) => user.index), 10, rng.fork('read').shuffle);
      const tasks = order.map((index) => ({ user: index, run: async () => void (await read(users[index])) }));
      while (running()) await runInOrder(tasks, concurrency, controller.signal);
    }
    const elapsed = (performance.now() - startedAt) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const reads = client.samples.slice(first);
    const misses = reads.filter((sample) => sample.outcome !== 'hit').length;
    if (misses > 0) throw new Error(`driver: ${misses} of ${reads.length} reads were not hits; the jars lost their cookies`);
    const latencies = reads.map((sample) => sample.latencyMs).sort((a, b) => a - b);
    return { requests: reads.length, rps: reads.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuUsPerRequest: cpuPerRequest(cpu, reads.length), targetCpuUsPerRequest: targetCpuPerRequest(target, targetBefore, reads.length) };
  } finally {
    controller.abort();
    await client.close();
  }
}

// The baseline's users come from its own build too: its driver may recognise only jars its own code made.
const baselineBuild = baseline
  ? {
      Driver: (await import(pathToFileURL(path.join(baseline, 'driver/driver.js')).href)).Driver,
      makeUsers: (await import(pathToFileURL(path.join(baseline, 'driver/users.js')).href)).makeUsers,
    }
  : undefined;
const clients = {
  autocannon: (target, durationSeconds) => cannon(target, durationSeconds),
  driver: (target, durationSeconds) => driver(target, durationSeconds, 'driver'),
  'read-phase': (target, durationSeconds) => driver(target, durationSeconds, 'read-phase'),
  ...(baselineBuild ? { baseline: (target, durationSeconds) => driver(target, durationSeconds, 'driver', baselineBuild) } : {}),
};
const names = Object.keys(clients);
const target = await startTarget();
const runs = Object.fromEntries(names.map((name) => [name, []]));
try {
  for (const name of names) await clients[name](target, WARM_UP_SECONDS);
  for (let round = 0; round < rounds; round++) {
    // A rotating order spreads drift on a shared machine over every client alike.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) runs[name].push(await clients[name](target, seconds));
  }
} finally {
  stopChild(target.child);
}

const summary = (list) => ({
  rps: median(list.map((r) => r.rps)),
  p50: median(list.map((r) => r.p50)),
  p99: median(list.map((r) => r.p99)),
  cpuUsPerRequest: median(list.map((r) => r.cpuUsPerRequest)),
  targetCpuUsPerRequest: median(list.map((r) => r.targetCpuUsPerRequest)),
});
/** A client's requests/s over autocannon's, round by round. */
const ratiosOf = (name) => runs[name].map((run, i) => run.rps / runs.autocannon[i].rps);
const ratios = ratiosOf('driver');
const phaseRatios = ratiosOf('read-phase');
const result = {
  bench: 'driver-capacity',
  ...(label ? { label } : {}),
  dist,
  node: process.version,
  concurrency,
  users: userCount,
  secondsPerRound: seconds,
  rounds,
  median: Object.fromEntries(names.map((name) => [name, summary(runs[name])])),
  ratio: median(ratios),
  ratios,
  readPhaseRatio: median(phaseRatios),
  ...(baseline ? { baseline, baselineRatio: median(ratiosOf('baseline')) } : {}),
  runs,
  target: 'driver / autocannon >= 0.8',
};
result.met = result.ratio >= 0.8;

const f = (n, digits = 2) => n.toFixed(digits);
console.log(`concurrency ${concurrency}, ${userCount} users, ${rounds} rounds of ${seconds} s, medians`);
console.log('| client | requests/s | p50 ms | p99 ms | CPU µs/request | target CPU µs/request |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const name of names) {
  const m = result.median[name];
  console.log(`| ${name} | ${f(m.rps, 0)} | ${f(m.p50, 3)} | ${f(m.p99, 3)} | ${f(m.cpuUsPerRequest, 1)} | ${f(m.targetCpuUsPerRequest, 1)} |`);
}
console.log(`\ndriver / autocannon = ${f(result.ratio)} (per round: ${ratios.map((r) => f(r)).join(', ')}; target >= 0.8: ${result.met ? 'met' : 'NOT met'})`);
console.log(`read-phase / autocannon = ${f(result.readPhaseRatio)} (for information)`);
if (baseline) console.log(`baseline / autocannon = ${f(result.baselineRatio)} (the driver of ${baseline})`);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, `bench/results/driver-capacity${label ? `-${label}` : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
