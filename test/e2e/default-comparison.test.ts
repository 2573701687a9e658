import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report, ResultRow } from '../../src/report/model.js';
import { startHactl, type Finished, type Started } from './helpers.js';

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
    const started = startHactl([
      'run',
      '--strategy', 'none,sticky,redis,postgres',
      '--scenario', 'login-read,kill-node,cookie-swap',
      '--replicas', '3',
      '--users', '30',
      '--format', 'json',
      '--out', out,
    ]);
    hactl = started;
    finished = await started.finished;
    report = JSON.parse(await readFile(out, 'utf8')) as Report;
  });

  const row = (strategy: string, scenario: string): ResultRow => {
    const found = report.results.find((r) => r.strategy === strategy && r.scenario === scenario);
    expect(found, `${strategy} × ${scenario} in the report`).toBeDefined();
    expect(found!.status, `${strategy} × ${scenario}: ${found!.reason ?? ''}`).toBe('ok');
    return found!;
  };

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
    expect(report.settings).toMatchObject({ replicas: 3, users: 30, reads: 10, runtime: 'local', strategies: ['none', 'sticky', 'redis', 'postgres'] });
    expect(report.settings.seed).toEqual(expect.any(Number));
    const metrics = row('redis', 'login-read').metrics!;
    for (const key of ['hitRate', 'missRate', 'errors', 'sessionLoss', 'recoveryMs', 'latencyMs']) expect(metrics).toHaveProperty(key);
    for (const phase of ['login', 'read']) expect(Object.keys(metrics.latencyMs[phase]!)).toEqual(expect.arrayContaining(['p50', 'p95', 'p99', 'max']));
    expect(Object.keys(row('redis', 'kill-node').metrics!.latencyMs)).toEqual(['login', 'before', 'failover', 'after']);
  });

  describe('login-read', () => {
    it('none: hit rate about 1/R (0.25 to 0.45)', () => {
      const { hitRate, missRate } = row('none', 'login-read').metrics!;
      expect(hitRate).toBeGreaterThanOrEqual(0.25);
      expect(hitRate).toBeLessThanOrEqual(0.45);
      expect(hitRate! + missRate!).toBeCloseTo(1, 10);
    });

    it.each(['sticky', 'redis', 'postgres'])('%s: hit rate 1, no errors', (strategy) => {
      const metrics = row(strategy, 'login-read').metrics!;
      expect(metrics.hitRate).toBe(1);
      expect(metrics.errors).toBe(0);
      expect(metrics.reads).toBe(300);
    });

    it('none spreads requests over every replica; sticky does too, by pinning users to them', () => {
      for (const strategy of ['none', 'sticky']) {
        expect(Object.keys(row(strategy, 'login-read').metrics!.requestsPerReplica)).toEqual(['replica-1', 'replica-2', 'replica-3']);
      }
    });
  });

  describe('kill-node', () => {
    it.each(['none', 'sticky'])('%s: about 1/R of sessions lost (0.2 to 0.5), with errors until the balancer noticed', (strategy) => {
      const metrics = row(strategy, 'kill-node').metrics!;
      expect(metrics.sessionLoss).toBeGreaterThanOrEqual(0.2);
      expect(metrics.sessionLoss).toBeLessThanOrEqual(0.5);
      expect(metrics.usersWithSession).toBeGreaterThan(20);
      expectRecovered(metrics);
    });

    it.each(['redis', 'postgres'])('%s: no session lost, every answered read a hit', (strategy) => {
      const metrics = row(strategy, 'kill-node').metrics!;
      expect(metrics.sessionLoss).toBe(0);
      expect(metrics.usersWithSession).toBe(30);
      expect(metrics.hitRate).toBe(1);
      expectRecovered(metrics);
    });

    function expectRecovered(metrics: NonNullable<ResultRow['metrics']>) {
      expect(metrics.detectionMs).toBeGreaterThan(0);
      expect(metrics.recovered).toBe(true);
      // Requests fail only while the dead replica is still in rotation.
      expect(metrics.recoveryMs!).toBeLessThanOrEqual(metrics.detectionMs! + 1_000);
      const after = metrics.phases.find((phase) => phase.name === 'after')!;
      expect(after.errors).toBe(0);
      expect(Object.keys(metrics.requestsPerReplica)).toContain('replica-1');
    }
  });

  describe('cookie-swap', () => {
    it.each(['none', 'sticky', 'redis', 'postgres'])('%s: the stolen cookie reads the victim, the forged id reads nothing and is never adopted', (strategy) => {
      const found = row(strategy, 'cookie-swap');
      const finding = (id: string) => found.findings!.find((f) => f.id === id)!;
      expect(finding('stolen-cookie').evidence.readVictimData).toBeGreaterThan(0);
      expect(finding('forged-id-read')).toMatchObject({ passed: true, evidence: { readsShowingData: 0 } });
      expect(finding('forged-id-adopted')).toMatchObject({ passed: true, evidence: { forgedIds: 30, adopted: 0, freshIdAtLogin: 30 } });
    });

    it.each(['sticky', 'redis', 'postgres'])('%s: every stolen cookie reads the victim (shared or pinned session)', (strategy) => {
      const stolen = row(strategy, 'cookie-swap').findings!.find((f) => f.id === 'stolen-cookie')!;
      expect(stolen.evidence.readVictimData).toBe(30);
    });
  });
});
