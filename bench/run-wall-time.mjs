#!/usr/bin/env node
// Benchmark: where the wall time of the default comparison goes.
//   node bench/run-wall-time.mjs [--rounds N]
// Runs `hactl run --strategy none,sticky,redis,postgres` with the default scenarios (login-read,
// kill-node, cookie-swap) N times and splits each run's wall time, from the report alone (no log
// parsing): the hactl process starting (spawn → the report's startedAt), each row's `timings`
// (the store's start-up on its first row, the cluster's start-up, the scenario, the teardown),
// what lies between rows (store stops, runtime set-up and close), and rendering plus exit.
// Targets (issue 8): store + 3 replicas + balancer ready within 2 s on the local runtime; the
// whole comparison within 30 s. Reports medians over the rounds.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const flag = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const rounds = Number(flag('--rounds', 3));
const STARTUP_TARGET_MS = 2_000;
const RUN_TARGET_MS = 30_000;
// A run that takes 10x its target is broken, not slow: stop it (hactl tears down on SIGTERM).
const RUN_LIMIT_MS = 10 * RUN_TARGET_MS;
const strategies = ['none', 'sticky', 'redis', 'postgres'];
const args = ['run', '--strategy', strategies.join(','), '--seed', '7', '--format', 'json', '--quiet'];

const dir = mkdtempSync(path.join(os.tmpdir(), 'hactl-bench-wall-'));
const sum = (values) => values.reduce((a, b) => a + (b ?? 0), 0);

function runOnce(round) {
  const out = path.join(dir, `report-${round}.json`);
  const spawnedAt = Date.now();
  const result = spawnSync(process.execPath, [`${root}bin/hactl.js`, ...args, '--out', out], { encoding: 'utf8', timeout: RUN_LIMIT_MS });
  const exitedAt = Date.now();
  if (result.status !== 0) throw new Error(`hactl ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}`);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const rows = report.results.filter((row) => row.timings);
  const bad = report.results.filter((row) => row.status !== 'ok');
  if (bad.length) throw new Error(`rows not ok: ${bad.map((row) => `${row.strategy} × ${row.scenario}: ${row.reason}`).join('; ')}`);
  const started = Date.parse(report.startedAt);
  const rowWall = sum(rows.map((row) => row.timings.startupMs + row.timings.scenarioMs + row.timings.teardownMs));
  const storeStarts = sum(rows.map((row) => row.timings.storeStartMs));
  // Start-up as a user waits for it before the first request: the store (if the strategy has
  // one) and the first row's cluster of replicas and balancer.
  const startupPerStrategy = Object.fromEntries(
    strategies.map((strategy) => {
      const first = rows.find((row) => row.strategy === strategy);
      return [strategy, first ? (first.timings.storeStartMs ?? 0) + first.timings.startupMs : undefined];
    }),
  );
  return {
    wallMs: exitedAt - spawnedAt,
    processStartMs: started - spawnedAt,
    storeStartMs: storeStarts,
    clusterStartMs: sum(rows.map((row) => row.timings.startupMs)),
    scenarioMs: sum(rows.map((row) => row.timings.scenarioMs)),
    teardownMs: sum(rows.map((row) => row.timings.teardownMs)),
    betweenRowsMs: report.durationMs - rowWall - storeStarts,
    renderAndExitMs: exitedAt - (started + report.durationMs),
    startupPerStrategy,
    clusterStartPerRowMs: median(rows.map((row) => row.timings.startupMs)),
    rows: rows.map((row) => ({ strategy: row.strategy, scenario: row.scenario, ...row.timings })),
  };
}

const samples = [];
try {
  for (let i = 0; i < rounds; i++) {
    samples.push(runOnce(i));
    process.stderr.write(`round ${i + 1}/${rounds}: ${(samples.at(-1).wallMs / 1000).toFixed(2)} s\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const parts = ['processStartMs', 'storeStartMs', 'clusterStartMs', 'scenarioMs', 'teardownMs', 'betweenRowsMs', 'renderAndExitMs', 'wallMs'];
const labels = {
  processStartMs: 'hactl process start (node, modules)',
  storeStartMs: 'store start-up (redis + postgres)',
  clusterStartMs: 'cluster start-up (12 rows: replicas + balancer)',
  scenarioMs: 'scenarios (warm-up, phases, aggregation)',
  teardownMs: 'cluster teardown (12 rows)',
  betweenRowsMs: 'between rows (store stops, runtime set-up/close)',
  renderAndExitMs: 'report rendering and exit',
  wallMs: 'total wall time',
};
const medians = Object.fromEntries(parts.map((part) => [part, median(samples.map((s) => s[part]))]));
const startup = Object.fromEntries(strategies.map((strategy) => [strategy, median(samples.map((s) => s.startupPerStrategy[strategy]))]));

const result = {
  bench: 'run-wall-time',
  run: `hactl ${args.join(' ')}`,
  rounds,
  loadAverage: os.loadavg(),
  cpus: os.cpus().length,
  medianMs: medians,
  startupMs: startup,
  clusterStartPerRowMs: median(samples.map((s) => s.clusterStartPerRowMs)),
  targets: {
    startup: { target: `store + 3 replicas + balancer <= ${STARTUP_TARGET_MS} ms`, worstStrategyMs: Math.max(...Object.values(startup)) },
    run: { target: `default comparison <= ${RUN_TARGET_MS} ms`, medianMs: medians.wallMs },
  },
  samples,
};
result.targets.startup.met = result.targets.startup.worstStrategyMs <= STARTUP_TARGET_MS;
result.targets.run.met = medians.wallMs <= RUN_TARGET_MS;

const ms = (value) => (value === undefined ? '—' : String(Math.round(value)));
console.log('| part | median ms | runs (ms) |');
console.log('| --- | --- | --- |');
for (const part of parts) console.log(`| ${labels[part]} | ${ms(medians[part])} | ${samples.map((s) => ms(s[part])).join(', ')} |`);
console.log('\n| strategy | start-up ms (store + first cluster), median | runs (ms) |');
console.log('| --- | --- | --- |');
for (const strategy of strategies) console.log(`| ${strategy} | ${ms(startup[strategy])} | ${samples.map((s) => ms(s.startupPerStrategy[strategy])).join(', ')} |`);
console.log(`\nstart-up, worst strategy: ${ms(result.targets.startup.worstStrategyMs)} ms (target <= ${STARTUP_TARGET_MS}: ${result.targets.startup.met ? 'met' : 'NOT met'})`);
console.log(`default comparison: ${ms(medians.wallMs)} ms (target <= ${RUN_TARGET_MS}: ${result.targets.run.met ? 'met' : 'NOT met'})`);
console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cpus`);
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/run-wall-time.json`, `${JSON.stringify(result, null, 2)}\n`);
