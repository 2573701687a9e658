import { beforeAll, describe, expect, it } from 'vitest';
import type { StoreFailoverMetrics } from '../../src/metrics/store-failover.js';
import type { Report } from '../../src/report/model.js';
import { startHactl, STACK_LINE, type Finished } from './helpers.js';

/**
 * Issue 17: a real primary and two replicas (redis-server processes), hactl's failover, and
 * DESIGN.md's store-failover oracle rows, against the demo app on the local runtime.
 */
const DELAY_MS = 200;
const USERS = 10;

let report: Report;
let finished: Finished;
let leftovers: string[];

beforeAll(async () => {
  const hactl = startHactl([
    'run',
    '--strategy', 'redis:replica,redis:replica-wait,redis',
    '--scenario', 'store-failover,replica-lag',
    '--store-replicas', '2',
    '--replication-delay', String(DELAY_MS),
    '--users', String(USERS),
    '--format', 'json',
    '--quiet',
  ]);
  finished = await hactl.finished;
  report = JSON.parse(finished.stdout) as Report;
  leftovers = await hactl.leftovers();
}, 240_000);

function failover(strategy: string, scenario: string): StoreFailoverMetrics {
  const row = report.results.find((candidate) => candidate.strategy === strategy && candidate.scenario === scenario);
  expect(row?.status, `${strategy} × ${scenario}: ${row?.reason ?? 'no row'}`).toBe('ok');
  expect(row!.metrics!.storeFailover, `${strategy} × ${scenario}`).toBeTruthy();
  return row!.metrics!.storeFailover!;
}

describe('store failover on a real Redis primary with replicas', () => {
  it('runs every row, skips replica-lag on one node saying why, and leaves nothing running', () => {
    expect(finished.code, finished.stderr).toBe(0);
    const skipped = report.results.find((row) => row.strategy === 'redis' && row.scenario === 'replica-lag')!;
    expect(skipped.status).toBe('skipped');
    expect(skipped.reason).toMatch(/needs a replicated store/);
    expect(leftovers).toEqual([]);
  });

  it('redis:replica under replica-lag loses acknowledged writes, about W x D of them, all from just before the kill', () => {
    const m = failover('redis:replica', 'replica-lag');
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

  it.each(['store-failover', 'replica-lag'])('redis:replica-wait loses no acknowledged write under %s', (scenario) => {
    const m = failover('redis:replica-wait', scenario);
    expect(m.acknowledged).toBeGreaterThan(0);
    expect(m.lost).toBe(0);
    expect(m.sessionsLost).toBe(0);
  });

  it('redis:replica without a delay keeps every session', () => {
    const m = failover('redis:replica', 'store-failover');
    expect(m.sessionsLost).toBe(0);
    expect(m.lost).toBeLessThan(0.05 * m.acknowledged);
  });

  it('a single redis without persistence loses every session and every write before the kill, and fails over nothing', () => {
    const m = failover('redis', 'store-failover');
    expect(m.sessionsLost).toBe(USERS);
    expect(m.lost).toBe(m.acknowledged);
    expect(m.failover).toBeNull();
  });

  it.each([
    ['redis:replica', 'store-failover'],
    ['redis:replica', 'replica-lag'],
    ['redis:replica-wait', 'store-failover'],
    ['redis:replica-wait', 'replica-lag'],
  ])('%s × %s: the primary was killed, a replica promoted, the endpoint moved, the others re-attached, the old primary rejoined; never two primaries', (strategy, scenario) => {
    const m = failover(strategy, scenario);
    const steps = m.failover!.events;
    const step = (kind: string) => steps.find((event) => event.kind === kind);
    expect(step('primary-down')?.node).toBe(m.node);
    const promoted = step('promoted')!;
    expect(promoted.detail).toBe(`replaces ${m.node}`);
    expect(step('endpoint-moved')?.node).toBe(promoted.node);
    // Three nodes: the replica not promoted follows the new primary; the killed one comes back as its replica.
    expect(steps.filter((event) => event.kind === 'replica-attached').map((event) => event.detail)).toEqual([`to ${promoted.node}`]);
    expect(step('rejoined-as-replica')).toMatchObject({ node: m.node, detail: `to ${promoted.node}` });
    expect(m.failover!.mostPrimariesAtOnce).toBe(1);
    expect(m.failover!.lagBeforeKill).toHaveLength(2);
    // Unavailable from the kill until a write was acknowledged again: bounded by the fast profile and reported.
    expect(m.unavailableMs).not.toBeNull();
    expect(m.unavailableMs!).toBeGreaterThan(0);
    expect(m.unavailableMs!).toBeLessThan(15_000);
  });
});

describe('bad input for replicated stores: one line, exit 2', () => {
  it.each([
    [['--strategy', 'redis:replica', '--store-replicas', '0'], /^hactl: --store-replicas: expected a whole number from 1 to 5, got "0"$/m],
    [['--strategy', 'redis:replica', '--replication-delay', '0'], /--replication-delay: expected a whole number from 1 to 60000, got "0"/],
    [['--strategy', 'redis', '--replication-delay', '300'], /--replication-delay: apply to replicated store variants/],
    [['--strategy', 'redis', '--store-replicas', '2'], /--store-replicas: apply to replicated store variants \(redis:replica, redis:replica-wait, redis:sentinel, postgres:standby, postgres:sync-standby, mongo:replica-set, mongo:replica-set-majority\); none is among --strategy/],
    [['--strategy', 'redis:replicas'], /redis:replicas/],
    [['--strategy', 'redis:replica', '--failover-profile', 'slow'], /--failover-profile.*slow.*fast, aws/],
  ])('%j', async (args, message) => {
    const { code, stderr } = await startHactl(['run', '--scenario', 'store-failover', ...args], {}, 30_000).finished;
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
