import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { dockerLeftovers, runIdOf, startHactl, type Finished } from './helpers.js';
import { expectKillNode, expectLoginRead, row } from './oracle.js';

const docker = inject('docker');

/**
 * Issue 5's faults on the docker runtime, on a bridge network with the balancer and the fault
 * proxy in containers: the store container killed and restarted, the proxy's toxics, replicas
 * drained through the balancer container's admin API, with the local runtime's figures.
 */
describe.skipIf(!docker.available)('faults and consistency on --runtime docker (bridge network, balancer in a container)', () => {
  let dir: string;
  let report: Report;
  let finished: Finished;

  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-docker-e2e-'));
    const out = path.join(dir, 'r.json');
    finished = await startHactl(
      [
        'run', '--runtime', 'docker', '--docker-balancer', 'container', ...docker.imageFlags,
        '--strategy', 'sticky,redis,redis:aof-always,postgres', '--scenario', 'kill-store,store-outage,rolling-restart',
        '--replicas', '2', '--users', '10', '--format', 'json', '--out', out,
      ],
      {},
      300_000,
    ).finished;
    report = JSON.parse(await readFile(out, 'utf8')) as Report;
  }, 320_000);

  it('exits 0 and leaves no container or network behind', async () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(await dockerLeftovers(runIdOf(finished.stderr))).toEqual([]);
  });

  it('kill-store: redis without persistence loses every session; with fsync always and PostgreSQL, none', () => {
    expect(row(report, 'redis', 'kill-store').metrics!.sessionLoss).toBe(1);
    for (const strategy of ['redis:aof-always', 'postgres']) {
      const m = row(report, strategy, 'kill-store').metrics!;
      expect(m.usersWithSession, strategy).toBe(10);
      expect(m.sessionLoss, strategy).toBe(0);
    }
  });

  it('store-outage: the proxy container cuts the store off, the app fails closed and recovers', () => {
    for (const strategy of ['redis', 'postgres']) {
      const m = row(report, strategy, 'store-outage').metrics!;
      expect(m.storeFault!.errorRate, strategy).toBeGreaterThan(0);
      expect(m.storeFault!.failOpen, strategy).toBe(0);
      expect(m.recovered, strategy).toBe(true);
      expect(m.sessionLoss, strategy).toBe(0);
    }
  });

  it('rolling-restart: drained through the balancer container, no errors; memory sessions all lost, stored ones kept', () => {
    for (const strategy of ['sticky', 'redis', 'postgres']) {
      const m = row(report, strategy, 'rolling-restart').metrics!;
      expect(m.errors, strategy).toBe(0);
      expect(m.faults.filter((fault) => fault.kind === 'restart-replica'), strategy).toHaveLength(2);
      expect(m.sessionLoss, strategy).toBe(strategy === 'sticky' ? 1 : 0);
    }
  });
});

describe.skipIf(!docker.available)('--balancer haproxy on --runtime docker: the haproxy image in front of replica containers', () => {
  let dir: string;
  let report: Report;
  let finished: Finished;

  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-docker-e2e-'));
    const out = path.join(dir, 'r.json');
    finished = await startHactl(
      ['run', '--runtime', 'docker', '--balancer', 'haproxy', ...docker.imageFlags, '--strategy', 'none,redis', '--scenario', 'login-read,kill-node,rolling-restart', '--format', 'json', '--out', out],
      {},
      300_000,
    ).finished;
    report = JSON.parse(await readFile(out, 'utf8')) as Report;
  }, 320_000);

  it('exits 0 and leaves no container or network behind', async () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(report.settings.balancer.kind).toBe('haproxy');
    expect(await dockerLeftovers(runIdOf(finished.stderr))).toEqual([]);
  });

  it.each(['none', 'redis'])('%s: DESIGN.md\'s figures, and a rolling restart (replicas re-resolved by name) without errors', (strategy) => {
    expectLoginRead(report, strategy);
    // On a bridge network a killed container's address stops answering: requests wait out the connect timeout.
    expectKillNode(report, strategy, { blackholes: true });
    const m = row(report, strategy, 'rolling-restart').metrics!;
    expect(m.errors).toBe(0);
    expect(m.sessionLoss).toBe(strategy === 'redis' ? 0 : 1);
  });
});
