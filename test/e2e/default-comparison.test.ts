import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overheadText } from '../../dist/report/cells.js';
import { isExternalBalancer, type Report } from '../../src/report/model.js';
import { startHactl, type Finished, type Started } from './helpers.js';
import { expectCookieSwap, expectKillNode, expectLoginRead, row } from './oracle.js';

const STRATEGIES = ['none', 'sticky', 'redis', 'postgres'];

/**
 * The must-hold command, against real redis-server and real PostgreSQL, with DESIGN.md's
 * table as the oracle (3 replicas, round robin).
 */
describe('hactl run: none, sticky, redis, postgres × login-read, kill-node, cookie-swap', () => {
  let finished: Finished;
  let report: Report;
  let hactl: Started;
  let dir: string;

  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-e2e-'));
    const out = path.join(dir, 'r.json');
    hactl = startHactl(['run', '--strategy', STRATEGIES.join(','), '--scenario', 'login-read,kill-node,cookie-swap', '--replicas', '3', '--users', '30', '--format', 'json', '--out', out]);
    finished = await hactl.finished;
    report = JSON.parse(await readFile(out, 'utf8')) as Report;
  });

  it('exits 0, prints the table, and leaves no process behind', async () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toMatch(/strategy\s+│\s+scenario/);
    // The probe saw replicas and both stores while they ran, so an empty answer below means something.
    expect([...hactl.seen().values()]).toEqual(expect.arrayContaining(['node', 'redis-server', 'initdb', 'postgres']));
    expect(await hactl.leftovers()).toEqual([]);
  });

  it('writes schemaVersion 1 with one ok row per strategy × scenario and the run settings', () => {
    expect(report.schemaVersion).toBe(1);
    expect(report.results).toHaveLength(12);
    expect(report.settings).toMatchObject({ replicas: 3, users: 30, reads: 10, runtime: 'local', strategies: STRATEGIES });
    expect(report.settings.seed).toEqual(expect.any(Number));
    const metrics = row(report, 'redis', 'login-read').metrics!;
    for (const key of ['hitRate', 'missRate', 'errors', 'sessionLoss', 'recoveryMs', 'latencyMs']) expect(metrics).toHaveProperty(key);
    for (const phase of ['login', 'read']) expect(Object.keys(metrics.latencyMs[phase]!)).toEqual(expect.arrayContaining(['p50', 'p95', 'p99', 'max']));
    expect(Object.keys(row(report, 'redis', 'kill-node').metrics!.latencyMs)).toEqual(['login', 'before', 'failover', 'after']);
  });

  it("states the balancer's measured overhead over direct requests, in the JSON and beside the table", () => {
    const { balancer } = report.settings;
    if (isExternalBalancer(balancer)) throw new Error('a local run states its own balancer');
    const overhead = balancer.overheadMs;
    expect(overhead).toBeDefined();
    expect(overhead!.samples).toBeGreaterThan(0);
    for (const figure of [overhead!.p50, overhead!.p99]) {
      expect(Number.isFinite(figure)).toBe(true);
      expect(figure).toBeGreaterThanOrEqual(0);
    }
    // The median with its spread over the rounds, and no p99: 200 samples cannot tell a p99 difference from noise.
    expect(overhead!.p50ByRound).toHaveLength(5);
    expect(finished.stdout).toContain(overheadText('hactl balancer', overhead));
    expect(overheadText('hactl balancer', overhead)).toMatch(/^ · hactl balancer adds (\d+\.\d\d ms to the median request over direct requests|no measurable latency to the median request \(\d+\.\d\d ms, within noise:) .*over 5 rounds of 40 requests each way\)$/);
    expect(finished.stdout).not.toMatch(/ms p99 over direct requests/);
  });

  it('none and sticky spread users over every replica', () => {
    for (const strategy of ['none', 'sticky']) {
      expect(Object.keys(row(report, strategy, 'login-read').metrics!.requestsPerReplica)).toEqual(['replica-1', 'replica-2', 'replica-3']);
    }
  });

  it.each(STRATEGIES)('login-read, %s: hit rate about 1/R for none, 1 otherwise', (strategy) => expectLoginRead(report, strategy));
  it.each(STRATEGIES)('kill-node, %s: about 1/R lost for none and sticky, none lost with a shared store', (strategy) => expectKillNode(report, strategy));
  it.each(STRATEGIES)('cookie-swap, %s: stolen cookie reads the victim, forged id reads nothing and is not adopted', (strategy) => expectCookieSwap(report, strategy));
});
