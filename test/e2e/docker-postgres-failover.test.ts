import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoreFailoverMetrics } from '../../src/metrics/store-failover.js';
import type { Report } from '../../src/report/model.js';
import { dockerLeftovers, startHactl, type Finished } from './helpers.js';

const docker = inject('docker');

/**
 * Issue 17 on --runtime docker, PostgreSQL: a primary and a standby as postgres containers (the
 * standby made from a base backup copied between containers through the engine), a replication
 * link per node and the primary endpoint as fault-proxy containers, hactl's failover reaching them
 * through published ports; DESIGN.md's oracle rows for postgres:standby and postgres:sync-standby.
 * replica-lag only: the same phase as store-failover, with the delay that makes the asynchronous
 * loss show.
 */
const DELAY_MS = 200;
const USERS = 10;

describe.skipIf(!docker.available)('store failover on --runtime docker: postgres containers with a standby', () => {
  let report: Report;
  let finished: Finished;
  let leftovers: string[];

  beforeAll(async () => {
    finished = await startHactl(
      [
        'run', '--runtime', 'docker', ...docker.imageFlags,
        '--strategy', 'postgres:standby,postgres:sync-standby',
        '--scenario', 'replica-lag',
        // One standby: the fewest containers; sync-standby then acknowledges nothing until the killed primary is rebuilt as its standby.
        '--store-replicas', '1',
        '--replicas', '2',
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

  function failover(strategy: string): StoreFailoverMetrics {
    const row = report.results.find((candidate) => candidate.strategy === strategy && candidate.scenario === 'replica-lag');
    expect(row?.status, `${strategy}: ${row?.reason ?? 'no row'}`).toBe('ok');
    expect(row!.metrics!.storeFailover, strategy).toBeTruthy();
    return row!.metrics!.storeFailover!;
  }

  it('exits 0, says the nodes are containers and the standby a base backup copied between them, and leaves no container or network of the run', () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(report.results).toHaveLength(2);
    for (const row of report.results) {
      expect(row.store).toMatch(/a primary and 1 standby in containers \(bridge network; node-1 hactl-[0-9a-f]{8}-postgres-node-1 .*standbys from base backups copied between containers.*primary endpoint container hactl-[0-9a-f]{8}-postgres-primary .*failover by hactl/);
    }
    expect(report.results.find((row) => row.strategy === 'postgres:sync-standby')!.store).toMatch(/synchronous streaming replication \(synchronous_standby_names \*/);
    expect(leftovers).toEqual([]);
  });

  it('postgres:standby under replica-lag loses acknowledged writes, 0.3x to 3x W x D of them, from just before the kill', () => {
    const m = failover('postgres:standby');
    expect(m.replicationDelayMs).toBe(DELAY_MS);
    expect(m.exact).toBe(true);
    const expected = (m.writesPerSecond! * DELAY_MS) / 1000;
    const summary = JSON.stringify({ ...m, lostAt: m.lostAt.length, failover: undefined });
    expect(m.lost, summary).toBeGreaterThan(0);
    expect(m.lost, summary).toBeGreaterThanOrEqual(0.3 * expected);
    expect(m.lost, summary).toBeLessThanOrEqual(3 * expected);
    expect(m.lostAt).toHaveLength(m.lost);
    // With slack for a loaded machine: the kill is dated by the last acknowledgement before the engine reported the container stopped.
    expect(Math.min(...m.lostAt)).toBeGreaterThanOrEqual(-3 * DELAY_MS - 500);
    expect(m.sessionsLost).toBe(0);
  });

  it('postgres:sync-standby loses no acknowledged write under replica-lag', () => {
    const m = failover('postgres:sync-standby');
    expect(m.replicationDelayMs).toBe(DELAY_MS);
    expect(m.acknowledged).toBeGreaterThan(0);
    expect(m.lost).toBe(0);
    expect(m.sessionsLost).toBe(0);
  });

  it.each(['postgres:standby', 'postgres:sync-standby'])('%s: the primary was killed, the standby promoted, the endpoint moved, the old primary rebuilt as its standby; never two primaries', (strategy) => {
    const m = failover(strategy);
    const steps = m.failover!.events;
    const step = (kind: string) => steps.find((event) => event.kind === kind);
    expect(step('primary-down')?.node).toBe(m.node);
    const promoted = step('promoted')!;
    expect(promoted).toMatchObject({ node: 'node-2', detail: `replaces ${m.node}` });
    expect(step('endpoint-moved')?.node).toBe(promoted.node);
    // A new container from a base backup of the new primary, streaming from it through its link.
    expect(step('rejoined-as-replica')).toMatchObject({ node: m.node, detail: `to ${promoted.node}` });
    expect(m.failover!.mostPrimariesAtOnce).toBe(1);
    expect(m.failover!.lagBeforeKill).toHaveLength(1);
    expect(m.unavailableMs).not.toBeNull();
    expect(m.unavailableMs!).toBeGreaterThan(0);
    // sync-standby with one standby: until the rebuilt node streams (about 10-20 s here under load).
    expect(m.unavailableMs!).toBeLessThan(strategy === 'postgres:sync-standby' ? 40_000 : 15_000);
  });
});
