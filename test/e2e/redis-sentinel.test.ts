import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StoreFailoverMetrics } from '../../src/metrics/store-failover.js';
import type { Report } from '../../src/report/model.js';
import { startHactl, type Finished } from './helpers.js';

/**
 * Issue 17, redis:sentinel: real data nodes and three real Sentinels (redis-server --sentinel).
 * Sentinel, not hactl, fails the primary over; the demo app finds the new one through Sentinel.
 */
const DELAY_MS = 200;
const USERS = 10;

let report: Report;
let finished: Finished;
let leftovers: string[];
let wallMs: number;

beforeAll(async () => {
  const started = Date.now();
  const hactl = startHactl([
    'run',
    '--strategy', 'redis:sentinel',
    '--scenario', 'store-failover,replica-lag',
    '--store-replicas', '2',
    '--replication-delay', String(DELAY_MS),
    '--users', String(USERS),
    '--format', 'json',
    '--quiet',
  ]);
  finished = await hactl.finished;
  wallMs = Date.now() - started;
  report = JSON.parse(finished.stdout) as Report;
  leftovers = await hactl.leftovers();
}, 120_000);

function row(scenario: string) {
  const found = report.results.find((candidate) => candidate.strategy === 'redis:sentinel' && candidate.scenario === scenario);
  expect(found?.status, `redis:sentinel × ${scenario}: ${found?.reason ?? 'no row'}`).toBe('ok');
  return found!;
}

function failover(scenario: string): StoreFailoverMetrics {
  const m = row(scenario).metrics?.storeFailover;
  expect(m, scenario).toBeTruthy();
  return m!;
}

/** Whether anything still listens on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('redis:sentinel: Sentinel fails a real primary over and the app follows it', () => {
  it('runs both rows in well under a minute and leaves nothing running, Sentinels included', async () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(leftovers).toEqual([]);
    const store = row('store-failover').store ?? '';
    expect(store).toMatch(/3 Sentinels \(:\d+, :\d+, :\d+\)/);
    const sentinelPorts = [...(/3 Sentinels \(([^)]*)\)/.exec(store)?.[1] ?? '').matchAll(/:(\d+)/g)].map((match) => Number(match[1]));
    expect(sentinelPorts).toHaveLength(3);
    expect(await Promise.all(sentinelPorts.map(listening))).toEqual([false, false, false]);
    expect(wallMs).toBeLessThan(60_000);
  });

  it.each(['store-failover', 'replica-lag'])('%s: the killed node was the primary, Sentinel promoted a replica, re-pointed the other, the old primary rejoined; never two primaries', (scenario) => {
    const m = failover(scenario);
    const record = m.failover!;
    expect(record.decidedBy).toBe('sentinel');
    const step = (kind: string) => record.events.find((event) => event.kind === kind);
    expect(step('primary-down')?.node).toBe(m.node);
    const promoted = step('promoted')!;
    expect(promoted.node).not.toBe(m.node);
    expect(promoted.detail).toBe(`replaces ${m.node}`);
    expect(step('endpoint-moved')?.node).toBe(promoted.node);
    // Three data nodes: Sentinel re-points the replica it did not promote; hactl restarts the killed one as a replica.
    expect(record.events.filter((event) => event.kind === 'replica-attached').map((event) => event.detail)).toEqual([`to ${promoted.node}`]);
    expect(step('rejoined-as-replica')).toMatchObject({ node: m.node, detail: `to ${promoted.node}` });
    expect(record.mostPrimariesAtOnce).toBe(1);
    expect(record.lagBeforeKill).toHaveLength(2);
  });

  it.each(['store-failover', 'replica-lag'])('%s: the demo app followed the new primary (writes acknowledged after the kill), loss and unavailability reported and bounded', (scenario) => {
    const m = failover(scenario);
    expect(m.acknowledged).toBeGreaterThan(0);
    expect(m.exact).toBe(true);
    expect(m.sessions).toBe(USERS);
    expect(m.countersUnread).toBe(0);
    expect(m.unavailableMs).not.toBeNull();
    expect(m.unavailableMs!).toBeGreaterThan(0);
    // Sentinel's fast profile: down after 1 s, the odown vote, an election started up to 1 s late, the promotion.
    expect(m.unavailableMs!).toBeLessThan(15_000);
  });

  it('store-failover without a delay keeps every session', () => {
    const m = failover('store-failover');
    expect(m.sessionsLost).toBe(0);
    expect(m.lost).toBeLessThan(0.05 * m.acknowledged);
  });

  it('replica-lag: asynchronous replication through the delayed links loses about W x D acknowledged writes from just before the kill', () => {
    const m = failover('replica-lag');
    expect(m.replicationDelayMs).toBe(DELAY_MS);
    const expected = (m.writesPerSecond! * DELAY_MS) / 1000;
    expect(m.lost, JSON.stringify({ ...m, lostAt: m.lostAt.length })).toBeGreaterThan(0);
    expect(m.lost).toBeGreaterThanOrEqual(0.3 * expected);
    expect(m.lost).toBeLessThanOrEqual(3 * expected);
    expect(m.lostAt).toHaveLength(m.lost);
    expect(Math.min(...m.lostAt)).toBeGreaterThanOrEqual(-3 * DELAY_MS);
    expect(m.sessionsLost).toBe(0);
  });
});
