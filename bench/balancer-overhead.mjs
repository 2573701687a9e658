#!/usr/bin/env node
// Benchmark: what hactl's balancer adds to a request, beside what HAProxy adds.
// Targets (issue 8): hactl's requests/s >= 0.6 x HAProxy's; the p50 hactl adds over a direct
// request <= 2 x the p50 HAProxy adds. Same replica, same load generator, same concurrency.
//
// One demo-app replica (`node dist/app/server.js`, memory sessions) is reached three ways:
// directly, through hactl's balancer (startBalancer: a worker thread of this process, as a run
// starts it, with autocannon on the main thread where a run has its driver), and through
// Debian's HAProxy with the config `--balancer haproxy` generates (round robin, health checks).
// Every round measures all three, in a rotating order so that drift on a shared machine hits
// each alike; the table shows medians over rounds, and the ratios are medians of per-round ratios.
//   node bench/balancer-overhead.mjs [--rounds N] [--seconds S] [--concurrency C1,C2] [--path P] [--label L]
// HACTL_DIST=<dir> measures another build of hactl; --baseline <dir> adds a fourth path, the
// balancer of another build (e.g. the code before a change) measured in the same rounds, so that
// before and after meet the same machine; --label L writes bench/results/balancer-overhead-L.json.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childEnv, stopChild, waitForOutput } from './children.mjs';
import { processCpuSeconds } from './process-cpu.mjs';
import { median, percentile } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.resolve(process.env.HACTL_DIST ?? path.join(root, 'dist'));
const load = (file) => import(pathToFileURL(path.join(dist, file)).href);
const [{ startBalancer }, { startHaproxyBalancer }, { BALANCER_PROFILE_SETTINGS }, { ProcessSupervisor }, { DEFAULTS }] = await Promise.all([
  load('balancer/index.js'),
  load('balancer/haproxy/index.js'),
  load('topology/plan.js'),
  load('runtime/processes.js'),
  load('config/options.js'),
]);

const option = (name) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : undefined);
const rounds = Number(option('rounds') ?? 5);
const seconds = Number(option('seconds') ?? 3);
// The run's default concurrency, and 1: with one request at a time nothing queues, so the
// difference to direct is the hop itself; at the run's concurrency the replica is saturated.
const concurrencies = (option('concurrency') ?? `1,${DEFAULTS.concurrency}`).split(',').map(Number);
// The driver's read: the demo app's session endpoint, here without a cookie (no store access).
const requestPath = option('path') ?? '/session';
const label = option('label');
const baseline = option('baseline') && path.resolve(option('baseline'));
const WARM_UP_SECONDS = 1;
const START_TIMEOUT_MS = 10_000;

/** One demo replica; the IPC channel makes it exit if this benchmark dies. */
async function startReplica() {
  const env = childEnv({ PORT: '0', HACTL_SESSION_STORE: 'memory', HACTL_REPLICA_ID: 'replica-1' });
  const child = spawn(process.execPath, [path.join(dist, 'app/server.js')], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const [, port] = await waitForOutput(child, 'demo replica', /listening on http:\/\/127\.0\.0\.1:(\d+)/, START_TIMEOUT_MS);
  return { child, port: Number(port) };
}

/** The settings a run gives its balancer (fast profile), for one target. */
function balancerSettings(targetPort, port) {
  return {
    host: '127.0.0.1',
    port,
    targets: [{ id: 'replica-1', host: '127.0.0.1', port: targetPort }],
    algorithm: 'round_robin',
    stickiness: { type: 'off' },
    upstreamTimeoutMs: DEFAULTS.requestTimeoutMs / 2,
    ...BALANCER_PROFILE_SETTINGS.fast,
  };
}

/**
 * Debian's HAProxy started as `--balancer haproxy` starts it (startHaproxyBalancer: its config,
 * under the supervisor's parent-death signal, ready once it serves and its runtime API answers).
 */
function startHaproxy(targetPort, supervisor, runDir) {
  const env = { ...process.env, HACTL_HAPROXY: process.env.HACTL_HAPROXY ?? '/usr/sbin/haproxy' };
  return startHaproxyBalancer(balancerSettings(targetPort, 0), { supervisor, runDir, env });
}

/**
 * autocannon at `concurrency` connections; latencies from its per-response event (µs resolution,
 * where its histogram keeps whole ms). Also the CPU this process (load generator and, for hactl,
 * the balancer's thread) and HAProxy used, per request: the balancer's cost apart from how busy
 * the machine is.
 */
async function measure(url, concurrency, durationSeconds) {
  const latencies = [];
  const cpuBefore = process.cpuUsage();
  const haproxyBefore = haproxy ? processCpuSeconds(haproxy.process.pid) : 0;
  const instance = autocannon({ url: `${url}${requestPath}`, connections: concurrency, pipelining: 1, duration: durationSeconds });
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await instance;
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`autocannon against ${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  const cpu = process.cpuUsage(cpuBefore);
  const haproxyCpu = haproxy ? processCpuSeconds(haproxy.process.pid) - haproxyBefore : 0;
  const n = latencies.length;
  latencies.sort((a, b) => a - b);
  return {
    requests: n,
    rps: n / durationSeconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    benchCpuUsPerRequest: (cpu.user + cpu.system) / n,
    haproxyCpuUsPerRequest: (haproxyCpu * 1e6) / n,
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'hactl-bench-'));
let replica;
let haproxy;
let balancer;
const supervisor = new ProcessSupervisor();
const names = ['direct', 'hactl', 'haproxy', ...(baseline ? ['baseline'] : [])];
const runs = Object.fromEntries(concurrencies.map((c) => [c, Object.fromEntries(names.map((name) => [name, []]))]));
let baselineBalancer;
try {
  replica = await startReplica();
  balancer = await startBalancer(balancerSettings(replica.port, 0));
  haproxy = await startHaproxy(replica.port, supervisor, dir);
  if (baseline) {
    const { startBalancer: startBaseline } = await import(pathToFileURL(path.join(baseline, 'balancer/index.js')).href);
    baselineBalancer = await startBaseline(balancerSettings(replica.port, 0));
  }
  const urls = { direct: `http://127.0.0.1:${replica.port}`, hactl: balancer.url, haproxy: haproxy.url, ...(baseline ? { baseline: baselineBalancer.url } : {}) };
  for (const name of names) await measure(urls[name], Math.max(...concurrencies), WARM_UP_SECONDS);
  for (const c of concurrencies) {
    for (let round = 0; round < rounds; round++) {
      // A rotating order spreads drift on a shared machine over every path alike.
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const name of order) runs[c][name].push(await measure(urls[name], c, seconds));
    }
  }
} finally {
  await balancer?.stop();
  await baselineBalancer?.stop();
  await haproxy?.stop();
  await supervisor.stopAll();
  stopChild(replica?.child);
  rmSync(dir, { recursive: true, force: true });
}

const summary = (list) => ({ rps: median(list.map((r) => r.rps)), p50: median(list.map((r) => r.p50)), p99: median(list.map((r) => r.p99)) });
/** What was measured at one concurrency: medians over rounds, and medians of per-round differences and ratios. */
function analyse(byPath) {
  const perRound = (fn) => median(byPath.direct.map((_, i) => fn(i)));
  const added = (via) => ({
    p50: perRound((i) => byPath[via][i].p50 - byPath.direct[i].p50),
    p99: perRound((i) => byPath[via][i].p99 - byPath.direct[i].p99),
  });
  const out = {
    median: Object.fromEntries(names.map((name) => [name, summary(byPath[name])])),
    addedMs: Object.fromEntries(names.slice(1).map((name) => [name, added(name)])),
    throughputRatio: perRound((i) => byPath.hactl[i].rps / byPath.haproxy[i].rps),
    ...(baseline ? { baselineThroughputRatio: perRound((i) => byPath.baseline[i].rps / byPath.haproxy[i].rps) } : {}),
    // hactl's balancer shares this process with the load generator: its share is what this
    // process spends per request through it beyond what it spends per direct request.
    balancerCpuUsPerRequest: {
      hactl: perRound((i) => byPath.hactl[i].benchCpuUsPerRequest - byPath.direct[i].benchCpuUsPerRequest),
      haproxy: perRound((i) => byPath.haproxy[i].haproxyCpuUsPerRequest),
      ...(baseline ? { baseline: perRound((i) => byPath.baseline[i].benchCpuUsPerRequest - byPath.direct[i].benchCpuUsPerRequest) } : {}),
    },
  };
  const { hactl, haproxy: reference } = out.addedMs;
  out.met = {
    throughput: out.throughputRatio >= 0.6,
    // Where HAProxy adds nothing (a saturated replica's queue hides a hop), twice nothing is
    // nothing: hactl must not add anything either.
    p50: hactl.p50 <= 2 * Math.max(reference.p50, 0),
  };
  out.addedP50Ratio = reference.p50 > 0 ? hactl.p50 / reference.p50 : null;
  return out;
}

const result = {
  bench: 'balancer-overhead',
  ...(label ? { label } : {}),
  dist,
  ...(baseline ? { baseline } : {}),
  node: process.version,
  path: requestPath,
  secondsPerRound: seconds,
  rounds,
  byConcurrency: Object.fromEntries(concurrencies.map((c) => [c, analyse(runs[c])])),
  runs,
  targets: { throughput: 'hactl / haproxy requests/s >= 0.6', p50: 'p50 hactl adds <= 2 x p50 haproxy adds' },
};

const f = (n, digits = 2) => (n === null ? '—' : n.toFixed(digits));
console.log(`GET ${requestPath}, ${rounds} rounds of ${seconds} s per path and concurrency, medians`);
console.log('| concurrency | path | requests/s | p50 ms | p99 ms | adds p50 ms | adds p99 ms | balancer CPU µs/request |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const c of concurrencies) {
  const r = result.byConcurrency[c];
  for (const name of names) {
    const m = r.median[name];
    const add = r.addedMs[name];
    const cpu = r.balancerCpuUsPerRequest[name];
    console.log(`| ${c} | ${name} | ${f(m.rps, 0)} | ${f(m.p50, 3)} | ${f(m.p99, 3)} | ${add ? f(add.p50, 3) : ''} | ${add ? f(add.p99, 3) : ''} | ${cpu !== undefined ? f(cpu, 1) : ''} |`);
  }
}
console.log('');
for (const c of concurrencies) {
  const r = result.byConcurrency[c];
  console.log(
    `concurrency ${c}: hactl / haproxy requests/s = ${f(r.throughputRatio)} (target >= 0.6: ${r.met.throughput ? 'met' : 'NOT met'}); ` +
      `p50 added hactl ${f(r.addedMs.hactl.p50, 3)} ms vs haproxy ${f(r.addedMs.haproxy.p50, 3)} ms, ratio ${f(r.addedP50Ratio)} (target <= 2: ${r.met.p50 ? 'met' : 'NOT met'})` +
      (baseline ? `; baseline: requests/s ${f(r.baselineThroughputRatio)} x haproxy, p50 added ${f(r.addedMs.baseline.p50, 3)} ms` : ''),
  );
}
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, `bench/results/balancer-overhead${label ? `-${label}` : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
