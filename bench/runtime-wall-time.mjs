#!/usr/bin/env node
// Benchmark: wall time of the same run on the local and the docker runtime, side by side.
// Target (issue 4): 3 replicas + redis on Docker, images already built, under 2x the local time.
// Runs alternate local/docker so that drift on a shared machine hits both alike; reports medians.
//   node bench/runtime-wall-time.mjs [--rounds N]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 5);
const imageFlags = execFileSync(process.execPath, [`${root}fixtures/docker/build-images.mjs`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(' ');
const run = ['run', '--strategy', 'redis', '--replicas', '3', '--scenario', 'login-read,kill-node,cookie-swap', '--seed', '7', '--format', 'json', '--quiet'];
const variants = {
  local: run,
  docker: [...run, '--runtime', 'docker', '--docker-network', 'host', ...imageFlags],
};

function timeOnce(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [`${root}bin/hactl.js`, ...args], { encoding: 'utf8', timeout: 300_000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`hactl ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return seconds;
}

// One untimed run of each: the demo app image gets built, caches warm.
for (const args of Object.values(variants)) timeOnce(args);
const samples = { local: [], docker: [] };
for (let i = 0; i < rounds; i++) for (const [name, args] of Object.entries(variants)) samples[name].push(timeOnce(args));

const result = {
  bench: 'runtime-wall-time',
  run: 'redis, 3 replicas, login-read + kill-node + cookie-swap, seed 7',
  rounds,
  medianSeconds: { local: median(samples.local), docker: median(samples.docker) },
  samples,
};
result.ratio = result.medianSeconds.docker / result.medianSeconds.local;
result.target = 'docker / local < 2';
result.met = result.ratio < 2;

console.log('| runtime | median wall time (s) | runs (s) |');
console.log('| --- | --- | --- |');
for (const name of ['local', 'docker']) console.log(`| ${name} | ${result.medianSeconds[name].toFixed(2)} | ${samples[name].map((s) => s.toFixed(2)).join(', ')} |`);
console.log(`\ndocker / local = ${result.ratio.toFixed(2)} (target < 2: ${result.met ? 'met' : 'NOT met'})`);
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/runtime-wall-time.json`, `${JSON.stringify(result, null, 2)}\n`);
