#!/usr/bin/env node
// Benchmark: how hactl scales with replicas and virtual users.
//   node bench/scale.mjs [--replicas 1,4,16] [--users 100,1000,10000] [--strategy redis] [--reads 10]
// One `hactl run --scenario login-read` per cell of the grid (every user logs in, then reads its
// session --reads times), on the local runtime. Per cell: wall time, the row's start-up and
// scenario time, and the hactl process's peak memory, taken from inside by a preloaded probe
// (bench/memory-probe.mjs): the main thread's V8 heap sampled every 25 ms (the figure the target
// is about: users, jars and samples live there) and the kernel's exact peak RSS (VmHWM, read at
// exit, which also counts the balancer's worker thread and native buffers). Memory per user is
// the slope of peak heap between the smallest and largest user counts at the same replica count,
// so the fixed cost of hactl itself is not spread over the users.
// Targets (issue 8): 10,000 virtual users within 300 MB of hactl heap; 16 replicas start and run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const flag = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const list = (value) => value.split(',').map(Number);
const replicaCounts = list(flag('--replicas', '1,4,16'));
const userCounts = list(flag('--users', '100,1000,10000'));
const strategy = flag('--strategy', 'redis');
const reads = Number(flag('--reads', 10));
const HEAP_TARGET_BYTES = 300 * 1024 * 1024;
const TARGET_USERS = 10_000;
// A cell is bounded: hactl gets SIGTERM (and tears its cluster down) if it runs this long.
const CELL_LIMIT_MS = 600_000;
const MB = 1024 * 1024;

const dir = mkdtempSync(path.join(os.tmpdir(), 'hactl-bench-scale-'));

function runCell(replicas, users) {
  const out = path.join(dir, `report-${replicas}-${users}.json`);
  const memoryFile = path.join(dir, `memory-${replicas}-${users}.json`);
  const args = ['run', '--strategy', strategy, '--scenario', 'login-read', '--replicas', String(replicas), '--users', String(users), '--reads', String(reads), '--seed', '7', '--format', 'json', '--quiet', '--out', out];
  const spawnedAt = Date.now();
  const result = spawnSync(process.execPath, ['--import', `${root}bench/memory-probe.mjs`, `${root}bin/hactl.js`, ...args], {
    encoding: 'utf8',
    timeout: CELL_LIMIT_MS,
    env: { ...process.env, HACTL_BENCH_MEMORY_FILE: memoryFile },
  });
  const wallMs = Date.now() - spawnedAt;
  if (result.status !== 0) return { replicas, users, ok: false, wallMs, error: `exited ${result.status ?? result.signal}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const memory = JSON.parse(readFileSync(memoryFile, 'utf8'));
  const row = report.results[0];
  return {
    replicas,
    users,
    ok: row.status === 'ok',
    ...(row.status === 'ok' ? {} : { error: row.reason }),
    wallMs,
    timings: row.timings,
    requests: row.metrics?.requests,
    hitRate: row.metrics?.hitRate,
    peakHeapUsedBytes: memory.peakBytes.heapUsed,
    peakHeapTotalBytes: memory.peakBytes.heapTotal,
    peakRssBytes: memory.vmHwmBytes,
  };
}

const cells = [];
try {
  for (const replicas of replicaCounts) {
    for (const users of userCounts) {
      const cell = runCell(replicas, users);
      cells.push(cell);
      process.stderr.write(`${replicas} replicas × ${users} users: ${cell.ok ? `${(cell.wallMs / 1000).toFixed(1)} s, heap ${(cell.peakHeapUsedBytes / MB).toFixed(0)} MB` : `FAILED: ${cell.error}`}\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Per-user memory: the slope of peak heap (and RSS) from the fewest to the most users, per replica count.
const perUser = replicaCounts.flatMap((replicas) => {
  const ok = cells.filter((cell) => cell.replicas === replicas && cell.ok).sort((a, b) => a.users - b.users);
  if (ok.length < 2) return [];
  const [low, high] = [ok[0], ok.at(-1)];
  const slope = (key) => (high[key] - low[key]) / (high.users - low.users);
  return [{ replicas, fromUsers: low.users, toUsers: high.users, heapBytesPerUser: slope('peakHeapUsedBytes'), rssBytesPerUser: slope('peakRssBytes') }];
});

const atTarget = cells.filter((cell) => cell.users === TARGET_USERS && cell.ok);
const sixteen = cells.filter((cell) => cell.replicas === 16);
const result = {
  bench: 'scale',
  run: `hactl run --strategy ${strategy} --scenario login-read --reads ${reads} --seed 7, local runtime`,
  loadAverage: os.loadavg(),
  cpus: os.cpus().length,
  cells,
  perUser,
  targets: {
    heap: {
      target: `${TARGET_USERS} users within ${HEAP_TARGET_BYTES / MB} MB of hactl heap`,
      worstPeakHeapUsedBytes: atTarget.length ? Math.max(...atTarget.map((cell) => cell.peakHeapUsedBytes)) : null,
    },
    replicas: { target: '16 replicas start and run', cells: sixteen.length, ok: sixteen.filter((cell) => cell.ok).length },
  },
};
result.targets.heap.met = atTarget.length > 0 && result.targets.heap.worstPeakHeapUsedBytes <= HEAP_TARGET_BYTES;
result.targets.replicas.met = sixteen.length > 0 && sixteen.every((cell) => cell.ok);

const mb = (bytes) => (bytes === undefined ? '—' : (bytes / MB).toFixed(1));
const s = (ms) => (ms === undefined ? '—' : (ms / 1000).toFixed(2));
console.log('| replicas | users | requests | wall s | start-up s | scenario s | peak heap MB | peak RSS MB | status |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const cell of cells) {
  console.log(`| ${cell.replicas} | ${cell.users} | ${cell.requests ?? '—'} | ${s(cell.wallMs)} | ${s(cell.timings?.startupMs)} | ${s(cell.timings?.scenarioMs)} | ${mb(cell.peakHeapUsedBytes)} | ${mb(cell.peakRssBytes)} | ${cell.ok ? 'ok' : cell.error} |`);
}
console.log('\n| replicas | users | heap KB per user | RSS KB per user |');
console.log('| --- | --- | --- | --- |');
for (const slope of perUser) console.log(`| ${slope.replicas} | ${slope.fromUsers} → ${slope.toUsers} | ${(slope.heapBytesPerUser / 1024).toFixed(2)} | ${(slope.rssBytesPerUser / 1024).toFixed(2)} |`);
const heap = result.targets.heap;
console.log(`\n${TARGET_USERS} users, peak heap: ${heap.worstPeakHeapUsedBytes === null ? 'not measured' : `${mb(heap.worstPeakHeapUsedBytes)} MB`} (target <= ${HEAP_TARGET_BYTES / MB} MB: ${heap.met ? 'met' : 'NOT met'})`);
console.log(`16 replicas: ${result.targets.replicas.ok}/${result.targets.replicas.cells} cells ok (${result.targets.replicas.met ? 'met' : 'NOT met'})`);
console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cpus`);
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/scale.json`, `${JSON.stringify(result, null, 2)}\n`);
