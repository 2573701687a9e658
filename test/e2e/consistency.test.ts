import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { startHactl, type Finished, type Started } from './helpers.js';
import { expectKillNode, expectLoginRead, row } from './oracle.js';

/**
 * Issue 5's scenarios against real redis-server (each persistence mode) and real PostgreSQL, each
 * run once through the CLI, with the figures each scenario's description says to expect.
 *
 * CI time: the runs are independent (each its own stores, replicas, balancer and free ports), and
 * much of each is waiting (drains, health checks, idle timeouts, the fault phases' durations), so
 * they run two at a time, started in the order of the describe blocks below; each block awaits its
 * own. No figure asserted here depends on a run having the machine to itself: latencies are
 * compared within a run (with the toxic against without it), not to a wall-clock bound.
 */
const RUNS_AT_ONCE = 2;
const RUN_LIMIT_MS = 170_000;

async function runToReport(args: string[], timeoutMs = RUN_LIMIT_MS): Promise<{ finished: Finished; report: Report; hactl: Started }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-e2e-'));
  try {
    const out = path.join(dir, 'r.json');
    const hactl = startHactl(['run', ...args, '--format', 'json', '--out', out], {}, timeoutMs);
    const finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(0);
    return { finished, report: JSON.parse(await readFile(out, 'utf8')) as Report, hactl };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let running = 0;
const waiting: Array<() => void> = [];
/** The run, started now if fewer than RUNS_AT_ONCE are under way, else when one ends. */
function queued(args: string[]): Promise<{ finished: Finished; report: Report; hactl: Started }> {
  const run = (async () => {
    if (running >= RUNS_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    const started = Date.now();
    try {
      return await runToReport(args);
    } finally {
      // What each run costs, for whoever next weighs this file's share of CI time.
      console.log(`consistency: hactl run ${args.join(' ')} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      running--;
      waiting.shift()?.();
    }
  })();
  // Awaited by its block's beforeAll; until then a failure must not count as unhandled.
  run.catch(() => undefined);
  return run;
}

// Longest first, so that the two slots finish together. The concurrent-writes, expiry and
// imbalance rows are two runs of the rows asserted below (redis and postgres for lost updates and
// expiry, none and sticky for expiry and imbalance): none and sticky under concurrent-writes, and
// redis and postgres under imbalance, were run and never asserted.
const runs = {
  sharedStores: queued(['--strategy', 'redis,postgres', '--scenario', 'concurrent-writes,concurrent-writes-resave,expiry', '--replicas', '3', '--users', '30']),
  restarts: queued(['--strategy', 'none,sticky,redis', '--scenario', 'restart-node,rolling-restart', '--replicas', '3', '--users', '30']),
  haproxy: queued(['--balancer', 'haproxy', '--strategy', 'none,sticky,redis', '--scenario', 'login-read,kill-node,rolling-restart', '--replicas', '3', '--users', '30']),
  storeFaults: queued(['--strategy', 'none,redis,postgres', '--scenario', 'store-latency,store-outage', '--replicas', '2', '--users', '10']),
  killStore: queued(['--strategy', 'none,redis,redis:aof-everysec,redis:aof-always,postgres', '--scenario', 'kill-store', '--replicas', '2', '--users', '20']),
  replicaMemory: queued(['--strategy', 'none,sticky', '--scenario', 'expiry,imbalance', '--replicas', '3', '--users', '30']),
  balancerOptions: queued(['--strategy', 'sticky:app_cookie,redis', '--algorithm', 'least_outstanding_requests', '--deregistration-delay', '2', '--scenario', 'login-read,kill-node', '--replicas', '3', '--users', '30']),
  albProfile: queued(['--strategy', 'redis', '--balancer-profile', 'alb', '--scenario', 'login-read', '--replicas', '2', '--users', '10']),
};

/**
 * How long a block may wait for its run: behind every other run in the queue, each bounded by
 * its own limit. The hooks' default (180 s) counts from when a block starts, not its run.
 */
const QUEUE_LIMIT_MS = Math.ceil(Object.keys(runs).length / RUNS_AT_ONCE) * RUN_LIMIT_MS + 10_000;

const metricsOf = (report: Report, strategy: string, scenario: string) => row(report, strategy, scenario).metrics!;

describe('kill-store: the store is SIGKILLed and restarted on its own data', () => {
  let report: Report;
  let hactl: Started;
  beforeAll(async () => {
    ({ report, hactl } = await runs.killStore);
  }, QUEUE_LIMIT_MS);

  it('leaves nothing running', async () => {
    expect(await hactl.leftovers()).toEqual([]);
  });

  it('skips strategies without a store, saying why', () => {
    expect(report.results.find((r) => r.strategy === 'none')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('keeps sessions in replica memory') });
  });

  it('redis without persistence loses every session', () => {
    const m = metricsOf(report, 'redis', 'kill-store');
    expect(m.usersWithSession).toBe(20);
    expect(m.sessionLoss).toBe(1);
    expect(m.faults).toMatchObject([{ kind: 'kill-store', target: 'redis' }]);
    expect(row(report, 'redis', 'kill-store').store).toContain('persistence off');
  });

  it.each(['redis:aof-everysec', 'redis:aof-always', 'postgres'])('%s keeps every acknowledged session', (strategy) => {
    const m = metricsOf(report, strategy, 'kill-store');
    expect(m.usersWithSession).toBe(20);
    expect(m.sessionLoss).toBe(0);
    expect(m.recovered).toBe(true);
    expect(m.phases.find((phase) => phase.name === 'after')).toMatchObject({ errors: 0, misses: 0 });
  });

  it('names the persistence each redis row ran with', () => {
    expect(row(report, 'redis:aof-everysec', 'kill-store').store).toContain('appendfsync everysec');
    expect(row(report, 'redis:aof-always', 'kill-store').store).toContain('appendfsync always');
  });
});

describe('restart-node and rolling-restart: replicas drained and restarted while users keep reading', () => {
  let report: Report;
  beforeAll(async () => {
    ({ report } = await runs.restarts);
  }, QUEUE_LIMIT_MS);

  it.each(['none', 'sticky', 'redis'])('%s: draining first means users see no errors at all', (strategy) => {
    for (const scenario of ['restart-node', 'rolling-restart']) {
      const m = metricsOf(report, strategy, scenario);
      expect(m.errors, `${strategy} × ${scenario}`).toBe(0);
      const restarts = m.faults.filter((fault) => fault.kind === 'restart-replica');
      expect(restarts).toHaveLength(scenario === 'restart-node' ? 1 : 3);
      for (const fault of restarts) expect(fault.detail).toMatchObject({ abandoned: 0 });
      // A healthy restart: no request reached a replica between its drain and its return.
      expect(report.results.find((row) => row.strategy === strategy && row.scenario === scenario)!.warnings, `${strategy} × ${scenario}`).toBeUndefined();
    }
  });

  it('with sessions in replica memory, a restarted replica takes its sessions along', () => {
    for (const strategy of ['none', 'sticky']) {
      const one = metricsOf(report, strategy, 'restart-node');
      expect(one.sessionLoss).toBeGreaterThanOrEqual(0.2);
      expect(one.sessionLoss).toBeLessThanOrEqual(0.5);
      expect(metricsOf(report, strategy, 'rolling-restart').sessionLoss).toBe(1);
    }
  });

  it('with a shared store, no session is lost', () => {
    expect(metricsOf(report, 'redis', 'restart-node').sessionLoss).toBe(0);
    expect(metricsOf(report, 'redis', 'rolling-restart').sessionLoss).toBe(0);
  });
});

describe('concurrent-writes, expiry, imbalance', () => {
  let report: Report;
  beforeAll(async () => {
    const [shared, replicaMemory] = await Promise.all([runs.sharedStores, runs.replicaMemory]);
    report = { ...shared.report, results: [...shared.report.results, ...replicaMemory.report.results] };
  }, QUEUE_LIMIT_MS);

  it.each(['redis', 'postgres'])('%s: parallel increments through a shared store lose updates, with resave off and on', (strategy) => {
    for (const scenario of ['concurrent-writes', 'concurrent-writes-resave']) {
      const lost = metricsOf(report, strategy, scenario).lostUpdates!;
      // Every increment was acknowledged: the loss is silent.
      expect(lost.acknowledged, `${strategy} × ${scenario}`).toBe(30 * 8);
      expect(lost.lost, `${strategy} × ${scenario}`).toBeGreaterThan(0);
      expect(lost.usersAffected, `${strategy} × ${scenario}`).toBeGreaterThan(0);
    }
  });

  it.each(['redis', 'postgres'])('%s: every replica serves a session just before the idle timeout, none after it', (strategy) => {
    expect(metricsOf(report, strategy, 'expiry').expiry).toEqual({
      users: 30,
      replicas: 3,
      allReadsHit: 30,
      replicasServing: ['replica-1', 'replica-2', 'replica-3'],
      stale: 0,
      staleReplicas: [],
    });
  });

  it.each(['none', 'sticky'])('%s: no replica keeps a session past the idle timeout either', (strategy) => {
    expect(metricsOf(report, strategy, 'expiry').expiry).toMatchObject({ users: 30, stale: 0 });
  });

  it('sticky: every read before the timeout hits, each on the replica its user is pinned to; none: about 1 in R', () => {
    expect(metricsOf(report, 'sticky', 'expiry').expiry).toMatchObject({ allReadsHit: 30 });
    // Without stickiness each of a user's 2R reads reaches the replica holding its session about
    // 1 time in R, as round robin and the other users' requests happen to fall: all six by chance
    // for about (1/3)^6 x 30 = 0.04 users a run, so one now and then (seen once in CI). A session
    // shared by the replicas would make it 30.
    expect(metricsOf(report, 'none', 'expiry').expiry!.allReadsHit).toBeLessThanOrEqual(2);
  });

  it('imbalance: round robin spreads evenly; stickiness piles heavy users onto one replica', () => {
    expect(metricsOf(report, 'none', 'imbalance').imbalance).toBeLessThanOrEqual(1.05);
    // R + 1 heavy users on R replicas: one replica has two of them, at least 1.25 x the mean.
    expect(metricsOf(report, 'sticky', 'imbalance').imbalance).toBeGreaterThanOrEqual(1.25);
  });
});

describe('store-latency and store-outage through the fault proxy', () => {
  let report: Report;
  let hactl: Started;
  beforeAll(async () => {
    ({ report, hactl } = await runs.storeFaults);
  }, QUEUE_LIMIT_MS);

  it('leaves no process behind', async () => {
    expect([...hactl.seen().values()]).toEqual(expect.arrayContaining(['node', 'redis-server', 'postgres']));
    expect(await hactl.leftovers()).toEqual([]);
  });

  it.each(['redis', 'postgres'])('%s: added store latency shows in read latency, without errors', (strategy) => {
    const m = metricsOf(report, strategy, 'store-latency');
    expect(m.latencyMs.slow!.p50).toBeGreaterThanOrEqual(150);
    // The toxic (200 ± 50 ms on each store answer) shows only while it is set: the phases before
    // and after it are at least its least delay, 150 ms, faster, less 50 ms for how the
    // machine's load moved between phases. This compares the run with itself; how fast a read is
    // without a toxic is the machine's figure (the 100 ms ceiling this replaced), and what the
    // fault proxy adds to a round trip is measured by bench/fault-proxy-latency.mjs.
    expect(m.latencyMs.slow!.p50 - m.latencyMs.before!.p50).toBeGreaterThanOrEqual(100);
    expect(m.latencyMs.slow!.p50 - m.latencyMs.after!.p50).toBeGreaterThanOrEqual(100);
    expect(m.errors).toBe(0);
    expect(m.storeFault).toMatchObject({ errorRate: 0, failOpen: 0 });
  });

  it.each(['redis', 'postgres'])('%s: cut off from the store, the app fails closed, then recovers without losing sessions', (strategy) => {
    const m = metricsOf(report, strategy, 'store-outage');
    expect(m.storeFault!.errorRate).toBeGreaterThan(0);
    expect(m.storeFault!.failOpen).toBe(0);
    expect(m.faults.map((fault) => fault.kind)).toEqual(['store-down', 'store-reset_peer', 'store-timeout']);
    for (const fault of m.faults) expect(fault.endAt).toBeGreaterThan(fault.at);
    expect(m.recovered).toBe(true);
    expect(m.sessionLoss).toBe(0);
    expect(m.phases.find((phase) => phase.name === 'after')).toMatchObject({ errors: 0, misses: 0 });
  });

  it('redis: a store that stops answering makes requests hang past the bound', () => {
    expect(metricsOf(report, 'redis', 'store-outage').storeFault!.hung).toBeGreaterThan(0);
  });
});

describe('balancer options: app_cookie stickiness, least outstanding requests, the ALB profile', () => {
  let report: Report;
  let albReport: Report;
  beforeAll(async () => {
    ({ report } = await runs.balancerOptions);
    ({ report: albReport } = await runs.albProfile);
  }, QUEUE_LIMIT_MS);

  it('states the balancer settings the run used', () => {
    expect(report.settings.balancer).toMatchObject({
      kind: 'hactl',
      profile: 'fast',
      algorithm: 'least_outstanding_requests',
      deregistrationDelayMs: 2_000,
      // The run's sticky strategy is app_cookie: the report names its cookie.
      stickiness: { cookieName: 'AWSALBAPP', durationSeconds: 86_400 },
    });
    expect(albReport.settings.balancer).toMatchObject({
      profile: 'alb',
      healthCheck: { intervalMs: 30_000, timeoutMs: 5_000, healthyThreshold: 5, unhealthyThreshold: 2, matcher: '200-299', path: '/health' },
      connectTimeoutMs: 10_000,
      deregistrationDelayMs: 300_000,
    });
    expect(row(albReport, 'redis', 'login-read').metrics!.hitRate).toBe(1);
  });

  it('sticky:app_cookie pins each user through the app cookie: every read hits', () => {
    const m = row(report, 'sticky:app_cookie', 'login-read').metrics!;
    expect(m.hitRate).toBe(1);
    expect(m.errors).toBe(0);
    expect(Object.keys(m.requestsPerReplica)).toEqual(['replica-1', 'replica-2', 'replica-3']);
  });

  it('sticky:app_cookie loses exactly the sessions pinned to the killed replica, and re-pins the rest', () => {
    const m = row(report, 'sticky:app_cookie', 'kill-node').metrics!;
    // With least_outstanding_requests, how many users their logins pinned to each replica depends
    // on timing (about 1/R each; 5 of 30 seen in CI): count those of the killed replica by who
    // served their reads before the kill, every one of which hit there.
    const before = m.phases.find((phase) => phase.name === 'before')!;
    const readsPerUser = before.requests / m.usersWithSession!;
    const pinned = before.byReplica['replica-1']!.hits / readsPerUser;
    expect(Number.isInteger(pinned)).toBe(true);
    expect(pinned).toBeGreaterThan(0);
    expect(m.usersLost).toBe(pinned);
    expect(m.sessionLoss).toBeCloseTo(pinned / m.usersWithSession!, 10);
    expect(m.recovered).toBe(true);
    expect(m.phases.find((phase) => phase.name === 'after')!.errors).toBe(0);
  });

  it('least_outstanding_requests with a shared store: every read hits, none lost', () => {
    expect(row(report, 'redis', 'login-read').metrics!.hitRate).toBe(1);
    expect(row(report, 'redis', 'kill-node').metrics!.sessionLoss).toBe(0);
  });
});

describe('--balancer haproxy: a real HAProxy gives the figures hactl\'s balancer gives', () => {
  let report: Report;
  let hactl: Started;
  beforeAll(async () => {
    ({ report, hactl } = await runs.haproxy);
  }, QUEUE_LIMIT_MS);

  it('ran HAProxy, says so, and leaves nothing running', async () => {
    expect(report.settings.balancer.kind).toBe('haproxy');
    expect([...hactl.seen().values()]).toContain('haproxy');
    expect(await hactl.leftovers()).toEqual([]);
  });

  it.each(['none', 'sticky', 'redis'])('login-read and kill-node, %s: DESIGN.md\'s figures', (strategy) => {
    expectLoginRead(report, strategy);
    expectKillNode(report, strategy);
  });

  it.each(['none', 'sticky', 'redis'])('rolling-restart, %s: drained through the runtime API without errors', (strategy) => {
    const m = metricsOf(report, strategy, 'rolling-restart');
    expect(m.errors).toBe(0);
    expect(m.sessionLoss).toBe(strategy === 'redis' ? 0 : 1);
    // hactl learns of HAProxy's state by polling it: a request routed just as a replica came back is no evidence.
    expect(report.results.find((row) => row.strategy === strategy && row.scenario === 'rolling-restart')!.warnings).toBeUndefined();
  });
});
