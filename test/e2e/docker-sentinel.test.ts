import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoreFailoverMetrics } from '../../src/metrics/store-failover.js';
import type { Report } from '../../src/report/model.js';
import { dockerLeftovers, startHactl, type Finished } from './helpers.js';

const docker = inject('docker');

/**
 * redis:sentinel on --runtime docker: the data nodes and replication links of redis:replica and
 * three Sentinel containers on the run's bridge network, which decide the failover themselves;
 * hactl watches them through their published ports. replica-lag alone: the store-failover phase
 * with the delay on the links, which Sentinel's re-pointed replicas keep using.
 */
const DELAY_MS = 200;
const USERS = 10;

describe.skipIf(!docker.available)('redis:sentinel on --runtime docker', () => {
  let report: Report;
  let finished: Finished;
  let leftovers: string[];

  beforeAll(async () => {
    finished = await startHactl(
      [
        'run', '--runtime', 'docker', ...docker.imageFlags,
        '--strategy', 'redis:sentinel',
        '--scenario', 'replica-lag',
        '--store-replicas', '2',
        '--replication-delay', String(DELAY_MS),
        '--users', String(USERS),
        '--format', 'json',
        '--quiet',
      ],
      {},
      150_000,
    ).finished;
    report = JSON.parse(finished.stdout) as Report;
    leftovers = await dockerLeftovers(report.runId);
  }, 170_000);

  function failover(): StoreFailoverMetrics {
    const row = report.results.find((candidate) => candidate.strategy === 'redis:sentinel' && candidate.scenario === 'replica-lag');
    expect(row?.status, row?.reason ?? 'no row').toBe('ok');
    return row!.metrics!.storeFailover!;
  }

  it('exits 0, says the nodes and the Sentinels are containers, and leaves no container or network of the run', () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(report.results).toHaveLength(1);
    expect(report.results[0]!.store).toMatch(/a primary and 2 replicas in containers \(bridge network; node-1 hactl-[0-9a-f]{8}-redis-node-1 .*3 Sentinel containers \(hactl-[0-9a-f]{8}-redis-sentinel-1 .*failover by Sentinel/);
    expect(leftovers).toEqual([]);
  });

  it('loses acknowledged writes under the delay, 0.3x to 3x W x D of them, and no session', () => {
    const m = failover();
    expect(m.replicationDelayMs).toBe(DELAY_MS);
    expect(m.exact).toBe(true);
    const expected = (m.writesPerSecond! * DELAY_MS) / 1000;
    expect(m.lost, JSON.stringify({ ...m, lostAt: m.lostAt.length })).toBeGreaterThan(0);
    expect(m.lost).toBeGreaterThanOrEqual(0.3 * expected);
    expect(m.lost).toBeLessThanOrEqual(3 * expected);
    expect(m.lostAt).toHaveLength(m.lost);
    expect(m.sessionsLost).toBe(0);
  });

  it('the Sentinels took the primary down, promoted a replica and re-pointed the other; the old primary rejoined; never two primaries', () => {
    const m = failover();
    expect(m.failover!.decidedBy).toBe('sentinel');
    const steps = m.failover!.events;
    const step = (kind: string) => steps.find((event) => event.kind === kind);
    expect(step('primary-down')?.node).toBe(m.node);
    const promoted = step('promoted')!;
    expect(promoted.detail).toBe(`replaces ${m.node}`);
    expect(step('endpoint-moved')?.node).toBe(promoted.node);
    // Sentinel re-pointed the third node at the new primary's link (the watcher saw it attach there).
    expect(steps.filter((event) => event.kind === 'replica-attached').map((event) => event.detail)).toEqual([`to ${promoted.node}`]);
    expect(step('rejoined-as-replica')).toMatchObject({ node: m.node, detail: `to ${promoted.node}` });
    expect(m.failover!.mostPrimariesAtOnce).toBe(1);
    expect(m.failover!.lagBeforeKill).toHaveLength(2);
    // Sentinel's detection (down-after-milliseconds 2000) and election, then the apps' clients asking again.
    expect(m.unavailableMs).not.toBeNull();
    expect(m.unavailableMs!).toBeGreaterThan(0);
    expect(m.unavailableMs!).toBeLessThan(15_000);
  });
});
