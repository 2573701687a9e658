import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoreFailoverMetrics } from '../../src/metrics/store-failover.js';
import type { Report } from '../../src/report/model.js';
import { dockerLeftovers, startHactl, type Finished } from './helpers.js';

const docker = inject('docker');

/**
 * Issue 17 on --runtime docker: a primary and two replicas as redis containers, a replication link
 * per node and the primary endpoint as fault-proxy containers on the run's bridge network, hactl's
 * failover reaching them through published ports, and DESIGN.md's store-failover oracle rows.
 */
const DELAY_MS = 200;
const USERS = 10;

describe.skipIf(!docker.available)('store failover on --runtime docker: redis containers with replicas', () => {
  let report: Report;
  let finished: Finished;
  let leftovers: string[];

  beforeAll(async () => {
    finished = await startHactl(
      [
        'run', '--runtime', 'docker', ...docker.imageFlags,
        '--strategy', 'redis:replica,redis:replica-wait',
        // replica-lag alone: the same phase as store-failover (which the local runtime's test runs too), with the delay that makes the asynchronous loss show; half the CI time.
        '--scenario', 'replica-lag',
        '--store-replicas', '2',
        '--replication-delay', String(DELAY_MS),
        '--users', String(USERS),
        '--format', 'json',
        '--quiet',
      ],
      {},
      240_000,
    ).finished;
    report = JSON.parse(finished.stdout) as Report;
    leftovers = await dockerLeftovers(report.runId);
  }, 260_000);

  function failover(strategy: string, scenario: string): StoreFailoverMetrics {
    const row = report.results.find((candidate) => candidate.strategy === strategy && candidate.scenario === scenario);
    expect(row?.status, `${strategy} × ${scenario}: ${row?.reason ?? 'no row'}`).toBe('ok');
    expect(row!.metrics!.storeFailover, `${strategy} × ${scenario}`).toBeTruthy();
    return row!.metrics!.storeFailover!;
  }

  it('exits 0, says the nodes are containers, and leaves no container or network of the run', () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(report.results).toHaveLength(2);
    for (const row of report.results) expect(row.store).toMatch(/a primary and 2 replicas in containers \(bridge network; node-1 hactl-[0-9a-f]{8}-redis-node-1 .*primary endpoint container hactl-[0-9a-f]{8}-redis-primary .*failover by hactl/);
    expect(leftovers).toEqual([]);
  });

  it('redis:replica under replica-lag loses acknowledged writes, 0.3x to 3x W x D of them, from just before the kill', () => {
    const m = failover('redis:replica', 'replica-lag');
    expect(m.replicationDelayMs).toBe(DELAY_MS);
    expect(m.exact).toBe(true);
    const expected = (m.writesPerSecond! * DELAY_MS) / 1000;
    expect(m.lost, JSON.stringify({ ...m, lostAt: m.lostAt.length })).toBeGreaterThan(0);
    expect(m.lost).toBeGreaterThanOrEqual(0.3 * expected);
    expect(m.lost).toBeLessThanOrEqual(3 * expected);
    expect(m.lostAt).toHaveLength(m.lost);
    // From just before the kill, with slack for a loaded machine: the kill is dated by the last
    // acknowledgement before the engine reported the container stopped, itself stamped when hactl read it.
    expect(Math.min(...m.lostAt)).toBeGreaterThanOrEqual(-3 * DELAY_MS - 500);
    expect(m.sessionsLost).toBe(0);
  });

  it.each(['replica-lag'])('redis:replica-wait loses no acknowledged write under %s', (scenario) => {
    const m = failover('redis:replica-wait', scenario);
    expect(m.acknowledged).toBeGreaterThan(0);
    expect(m.lost).toBe(0);
    expect(m.sessionsLost).toBe(0);
  });

  it.each([
    ['redis:replica', 'replica-lag'],
    ['redis:replica-wait', 'replica-lag'],
  ])('%s × %s: the primary was killed, a replica promoted, the endpoint moved, the other re-attached, the old primary rejoined; never two primaries', (strategy, scenario) => {
    const m = failover(strategy, scenario);
    const steps = m.failover!.events;
    const step = (kind: string) => steps.find((event) => event.kind === kind);
    expect(step('primary-down')?.node).toBe(m.node);
    const promoted = step('promoted')!;
    expect(promoted.detail).toBe(`replaces ${m.node}`);
    expect(step('endpoint-moved')?.node).toBe(promoted.node);
    expect(steps.filter((event) => event.kind === 'replica-attached').map((event) => event.detail)).toEqual([`to ${promoted.node}`]);
    // Its replacement container followed the new primary through that one's link, and caught up.
    expect(step('rejoined-as-replica')).toMatchObject({ node: m.node, detail: `to ${promoted.node}` });
    expect(m.failover!.mostPrimariesAtOnce).toBe(1);
    expect(m.failover!.lagBeforeKill).toHaveLength(2);
    expect(m.unavailableMs).not.toBeNull();
    expect(m.unavailableMs!).toBeGreaterThan(0);
    expect(m.unavailableMs!).toBeLessThan(15_000);
  });
});
