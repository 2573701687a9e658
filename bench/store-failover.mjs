#!/usr/bin/env node
// Benchmark: how long a store-failover row takes (issue 17's target: under 20 s on this machine).
//   node bench/store-failover.mjs [--rounds N] [--strategy redis:replica]
// Runs `hactl run --scenario store-failover,replica-lag` with 30 users N times and reports, per
// row, its durationMs (cluster start, scenario, teardown) and the scenario's own time, medians
// over the rounds, with each row's figures so a slow row can be told from a broken one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const flag = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const rounds = Number(flag('--rounds', 3));
const strategy = flag('--strategy', 'redis:replica,redis:replica-wait');
const ROW_TARGET_MS = 20_000;

const rows = new Map();
for (let round = 0; round < rounds; round++) {
  const run = spawnSync(process.execPath, [path.join(root, 'bin/hactl.js'), 'run', '--strategy', strategy, '--scenario', 'store-failover,replica-lag', '--format', 'json', '--quiet'], { encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`hactl exited ${run.status ?? run.signal}: ${run.stderr.slice(-2000)}`);
  for (const row of JSON.parse(run.stdout).results) {
    const key = `${row.strategy} × ${row.scenario}`;
    const seen = rows.get(key) ?? { total: [], scenario: [], lost: [], unavailable: [] };
    seen.total.push(row.durationMs);
    seen.scenario.push(row.timings?.scenarioMs ?? null);
    seen.lost.push(row.metrics?.storeFailover ? `${row.metrics.storeFailover.lost}/${row.metrics.storeFailover.acknowledged}` : row.status);
    seen.unavailable.push(row.metrics?.storeFailover?.unavailableMs ?? null);
    rows.set(key, seen);
  }
}

const results = [...rows].map(([row, seen]) => ({ row, medianRowMs: median(seen.total), medianScenarioMs: median(seen.scenario.filter((v) => v !== null)), lost: seen.lost, unavailableMs: seen.unavailable, withinTarget: median(seen.total) < ROW_TARGET_MS }));
for (const result of results) console.log(`${result.row}: row ${result.medianRowMs} ms (scenario ${result.medianScenarioMs} ms), lost ${result.lost.join(' ')}, unavailable ${result.unavailableMs.join(' ')} ms ${result.withinTarget ? 'within' : 'OVER'} the ${ROW_TARGET_MS} ms target`);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/store-failover.json'), `${JSON.stringify({ rounds, strategy, targetMs: ROW_TARGET_MS, results }, null, 2)}\n`);
