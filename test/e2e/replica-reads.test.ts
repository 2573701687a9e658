import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaReadsMetrics } from '../../src/metrics/replica-reads.js';
import type { Report } from '../../src/report/model.js';
import { startHactl, type Finished } from './helpers.js';

/**
 * Issue 17's replica-reads: the demo app writes sessions to the primary and reads them through the
 * store's reader endpoint, on a real Redis primary and replica and a real PostgreSQL primary and
 * hot standby (local runtime); DESIGN.md's read-your-writes rows.
 */
const DELAY_MS = 200;
const USERS = 10;
/** One app replica, no pre-flight or warm-up: this file measures the store's replicas, and CI time matters. */
const LEAN = ['--replicas', '1', '--no-preflight', '--no-warm-up', '--replication-delay', String(DELAY_MS), '--users', String(USERS), '--format', 'json', '--quiet'];
const AFTER_FAILOVER = fileURLToPath(new URL('../../fixtures/scenarios/replica-reads-after-failover.yaml', import.meta.url));

let report: Report;
let finished: Finished;
let leftovers: string[];
let afterFailover: Report;
let afterFailoverRun: Finished;

beforeAll(async () => {
  const hactl = startHactl(['run', '--strategy', 'redis:replica,redis:replica-wait,postgres:standby,redis', '--scenario', 'replica-reads', ...LEAN]);
  finished = await hactl.finished;
  report = JSON.parse(finished.stdout) as Report;
  leftovers = await hactl.leftovers();
  const second = startHactl(['run', '--strategy', 'redis:replica', '--scenario', AFTER_FAILOVER, ...LEAN]);
  afterFailoverRun = await second.finished;
  afterFailover = JSON.parse(afterFailoverRun.stdout) as Report;
  leftovers.push(...(await second.leftovers()));
}, 240_000);

function reads(from: Report, strategy: string, scenario = 'replica-reads'): ReplicaReadsMetrics {
  const row = from.results.find((candidate) => candidate.strategy === strategy && candidate.scenario === scenario);
  expect(row?.status, `${strategy} × ${scenario}: ${row?.reason ?? 'no row'}`).toBe('ok');
  expect(row!.metrics!.replicaReads, `${strategy} × ${scenario}`).toBeTruthy();
  return row!.metrics!.replicaReads!;
}

/** The part without the delay and the part with it, each with reads that were answered. */
function parts(m: ReplicaReadsMetrics) {
  const [plain, delayed] = m.parts;
  expect(plain?.replicationDelayMs).toBe(0);
  expect(delayed?.replicationDelayMs).toBe(DELAY_MS);
  for (const part of [plain!, delayed!]) {
    expect(part.answered, JSON.stringify(part)).toBeGreaterThan(0);
    expect(part.reader).toBe('node-2');
  }
  return { plain: plain!, delayed: delayed! };
}

describe('read-your-writes through a replica', () => {
  it('runs every replicated row, skips one node saying why, and leaves nothing running', () => {
    expect(finished.code, finished.stderr).toBe(0);
    const skipped = report.results.find((row) => row.strategy === 'redis')!;
    expect(skipped.status).toBe('skipped');
    expect(skipped.reason).toMatch(/needs a replicated store .* is one node/);
    expect(leftovers).toEqual([]);
  });

  it('redis:replica behind a 200 ms replication link shows reads older than the write just acknowledged', () => {
    const { plain, delayed } = parts(reads(report, 'redis:replica'));
    // A read sent right after the acknowledgement reaches the replica long before the write does.
    expect(delayed.violations, JSON.stringify(delayed)).toBeGreaterThan(0.5 * delayed.answered);
    expect(delayed.behindMax).toBeGreaterThanOrEqual(1);
    // Loopback replication is fast but asynchronous: the figure without a delay is reported, not assumed 0.
    expect(plain.violationRate).not.toBeNull();
  });

  it('redis:replica-wait reads its own writes on the replica: WAIT returned only once the replica had applied them', () => {
    const { plain, delayed } = parts(reads(report, 'redis:replica-wait'));
    expect(plain.violations, JSON.stringify(plain)).toBe(0);
    expect(delayed.violations, JSON.stringify(delayed)).toBe(0);
  });

  it('postgres:standby behind a 200 ms replication link serves stale sessions from its hot standby', () => {
    const { delayed } = parts(reads(report, 'postgres:standby'));
    expect(delayed.violations, JSON.stringify(delayed)).toBeGreaterThan(0.5 * delayed.answered);
  });

  it('after a failover, reads go to the old primary rejoined as a replica, not to the promoted one', () => {
    expect(afterFailoverRun.code, afterFailoverRun.stderr).toBe(0);
    const m = reads(afterFailover, 'redis:replica', 'replica-reads-after-failover');
    const row = afterFailover.results[0]!;
    expect(row.metrics!.storeFailover!.node).toBe('node-1');
    expect(m.parts[0]!.reader).toBe('node-1');
    expect(m.parts[0]!.violations, JSON.stringify(m.parts[0])).toBeGreaterThan(0);
  });
});
