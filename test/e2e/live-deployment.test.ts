import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/driver/records.js';
import type { KillReplicaFault } from '../../src/driver/phases/kill-replica.js';
import type { Report, ResultRow } from '../../src/report/model.js';
import { freePorts } from '../../src/platform/ports.js';
import { execFileSync } from 'node:child_process';
import { runHactl, startHactl, STACK_LINE } from './helpers.js';
import { pollUntil, sleep } from '../../src/platform/time.js';
import { startDeployment, type Deployment } from './live-deployment.js';

const PROFILE = fileURLToPath(new URL('../../fixtures/apps/php-behind-nginx.yaml', import.meta.url));

/** `hactl run` against the deployment at `target`, as its team would start it: one strategy, three replicas, the fixture's profile. */
function runAgainst(target: string): string[] {
  return ['run', '--runtime', 'external', '--target', target, '--strategy', 'redis', '--replicas', '3', '--app-profile', PROFILE];
}

/**
 * `--runtime external` against a deployment the test builds itself, as a platform team runs one:
 * PHP replicas (sessions in a real Redis) behind a real nginx that retries a failed request on the
 * next upstream and names the upstream that answered in `X-Upstream`. Nothing of hactl's sits in
 * between; hactl's only levers are the fault commands it is given, as on a real platform.
 */
describe('a live deployment: PHP replicas behind nginx, on Redis', () => {
  let deployment: Deployment;

  beforeAll(async () => {
    // The app fails closed as "not logged in" (401) when its store is down: misses, not errors.
    deployment = await startDeployment({ storeDownStatus: 401 });
  });
  afterAll(async () => {
    await deployment?.stop();
  });

  const runJson = async (args: string[]) => {
    const out = path.join(deployment.dir, `report-${Date.now()}.json`);
    const samples = path.join(deployment.dir, `samples-${Date.now()}.jsonl`);
    const result = await runHactl([...runAgainst(deployment.target), '--users', '30', '--seed', '14', '--format', 'json', '--out', out, '--samples', samples, ...args]);
    const report = existsSync(out) ? (JSON.parse(await readFile(out, 'utf8')) as Report) : undefined;
    const lines = existsSync(samples) ? (await readFile(samples, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Sample & { strategy: string }) : [];
    return { ...result, report, samples: lines };
  };
  const rowOf = (report: Report | undefined, scenario: string): ResultRow => {
    const found = report?.results.find((row) => row.scenario === scenario);
    expect(found, `${scenario} in the report`).toBeDefined();
    return found!;
  };
  const readsPerReplica = (samples: readonly Sample[]) => {
    const counts: Record<string, number> = {};
    // Users' reads of their own session, in whichever phase (a kill phase's reads are of its kind).
    for (const sample of samples) if ((sample.outcome === 'hit' || sample.outcome === 'miss') && sample.replica !== null) counts[sample.replica] = (counts[sample.replica] ?? 0) + 1;
    return counts;
  };

  it("names replicas by nginx's X-Upstream: each replica's requests are what it counted itself", async () => {
    await deployment.resetCounts();
    // No pre-flight here: its read would be counted by the app and is no sample of the row.
    const { code, stderr, report, samples } = await runJson(['--scenario', 'login-read', '--no-preflight']);
    expect(code, stderr).toBe(0);
    const metrics = rowOf(report, 'login-read').metrics!;
    expect(metrics.hitRate).toBe(1);
    expect(metrics.replicasKnown).toBe(true);
    // The replicas seen, by the names nginx gave them, and no more: not replica-1..3 besides.
    expect(Object.keys(metrics.requestsPerReplica).sort()).toEqual(Object.values(deployment.addresses).sort());
    expect(readsPerReplica(samples)).toEqual(await deployment.readsCounted());
    expect(metrics.imbalance).toBeGreaterThanOrEqual(1);
    expect(metrics.imbalance).toBeLessThan(1.25);
    expect(rowOf(report, 'login-read').warnings ?? []).toEqual([]);
  });

  it('kill-node: the fault verified by the replica leaving the answers, retries credited to the replica that answered, and the replica restarted', async () => {
    await deployment.resetCounts();
    const { code, stderr, report, samples } = await runJson([
      '--scenario',
      'kill-node',
      '--kill-replica-cmd',
      deployment.commands.killReplica,
      '--start-replica-cmd',
      deployment.commands.startReplica,
    ]);
    expect(code, stderr).toBe(0);
    const row = rowOf(report, 'kill-node');
    expect(row.status).toBe('ok');
    expect(row.warnings ?? []).toEqual([]);
    const [fault] = row.metrics!.faults as KillReplicaFault[];
    expect(fault).toMatchObject({ kind: 'kill-replica', target: 'replica-1', observed: true });
    expect(fault!.effect).toMatch(/^(first-failure|replica-gone)$/);
    expect(fault!.commands![0]).toMatchObject({ flag: '--kill-replica-cmd', exit: 'exit 0' });
    expect(fault!.commands!.some((run) => run.flag === '--start-replica-cmd' && run.exit === 'exit 0')).toBe(true);
    expect(row.metrics!.sessionLoss).toBe(0);
    // nginx retried every attempt on the dead replica: unless some request failed, when it took
    // the replica out cannot be seen, and detection is empty rather than 0.
    expect(row.metrics!.detectionMs === null).toBe(!failedAfter(samples, fault!.at));
    // Every answer is credited to one replica by its address, never to nginx's retry list.
    const names = new Set(Object.values(deployment.addresses));
    for (const sample of samples) if (sample.replica !== null) expect(names, sample.replica).toContain(sample.replica);
    // What each replica counted itself (reads with a session cookie), less the pre-flight's one
    // read and, on the killed one, the reads it counted and died serving, which nginx retried on
    // another replica: a retry credited to the dead replica would make a replica's samples exceed its count.
    const counted = await deployment.readsCounted();
    const victim = deployment.addresses['replica-1']!;
    let uncounted = 0;
    for (const [address, reads] of Object.entries(readsPerReplica(samples))) {
      expect(counted[address]! - reads, address).toBeGreaterThanOrEqual(0);
      if (address !== victim) uncounted += counted[address]! - reads;
    }
    expect(uncounted).toBeLessThanOrEqual(1);
    // Restored before the run ended.
    for (const id of deployment.replicaIds) expect(await deployment.replicaAnswers(id), id).toBe(true);
  });

  it('a kill command that sleeps 3 s after killing: timed as without the sleep (behind this retrying nginx, recovery; detection where a request failed)', async () => {
    const timings = async (killCommand: string) => {
      const { code, stderr, report, samples } = await runJson(['--scenario', 'kill-node', '--kill-replica-cmd', killCommand, '--start-replica-cmd', deployment.commands.startReplica]);
      expect(code, stderr).toBe(0);
      const metrics = rowOf(report, 'kill-node').metrics!;
      expect(metrics.faults[0]).toMatchObject({ observed: true });
      expect(metrics.detectionMs === null).toBe(!failedAfter(samples, metrics.faults[0]!.at));
      expect(metrics.recoveryMs).not.toBeNull();
      return metrics;
    };
    const plain = await timings(deployment.commands.killReplica);
    const slow = await timings(`${deployment.commands.killReplica}; sleep 3`);
    // (test/e2e/external.test.ts compares detection behind a balancer that does not retry.)
    if (plain.detectionMs !== null && slow.detectionMs !== null) expect(Math.abs(slow.detectionMs - plain.detectionMs)).toBeLessThan(1000);
    expect(Math.abs(slow.recoveryMs! - plain.recoveryMs!)).toBeLessThan(1000);
    const run = (slow.faults[0] as KillReplicaFault).commands![0]!;
    expect(run.endAt - run.startAt).toBeGreaterThanOrEqual(3000);
  });

  it('a kill command that returns before the replica is down: observed once it leaves the answers, and restarted', async () => {
    const late = `(sleep 0.5; ${deployment.commands.killReplica}) >/dev/null 2>&1 </dev/null &`;
    const { code, stderr, report } = await runJson(['--scenario', 'kill-node', '--kill-replica-cmd', late, '--start-replica-cmd', deployment.commands.startReplica]);
    expect(code, stderr).toBe(0);
    const row = rowOf(report, 'kill-node');
    expect(row.warnings ?? []).toEqual([]);
    expect(row.metrics!.faults[0]).toMatchObject({ observed: true, effect: expect.stringMatching(/^(first-failure|replica-gone)$/) });
    // Timed from when it took effect, half a second after the command returned.
    expect(row.metrics!.faults[0]!.at - (row.metrics!.faults[0] as KillReplicaFault).commands![0]!.endAt).toBeGreaterThanOrEqual(300);
    expect(row.metrics!.sessionLoss).toBe(0);
    for (const id of deployment.replicaIds) expect(await deployment.replicaAnswers(id), id).toBe(true);
  });

  it('a kill command that does nothing: the fault is not observed, no loss figure is a result, and an expectation on it fails', async () => {
    const config = path.join(deployment.dir, 'expect-loss.yaml');
    await writeFile(config, "expect:\n  redis:\n    kill-node: { sessionLoss: '== 0' }\n");
    const { code, stderr, report } = await runJson(['--scenario', 'kill-node', '--kill-replica-cmd', 'echo pretending to kill {replica}', '--config', config]);
    expect(code, stderr).toBe(1);
    const row = rowOf(report, 'kill-node');
    expect(row.warnings).toEqual([expect.objectContaining({ id: 'fault-not-observed', invalid: true })]);
    expect(row.metrics!.faults[0]).toMatchObject({ observed: false, observation: expect.stringMatching(/replica/) });
    expect(report!.expectations![0]).toMatchObject({ status: 'failed' });
    // The table shows no loss figure for it.
    const table = await runHactl(['report', path.join(deployment.dir, (await latest(deployment.dir, 'report-'))!)]);
    expect(table.stdout).toMatch(/invalid/);
    for (const id of deployment.replicaIds) expect(await deployment.replicaAnswers(id), id).toBe(true);
  });

  it('stopped by Ctrl-C during a kill command: says the deployment is left short of the killed replica', async () => {
    const hactl = startHactl([
      ...runAgainst(deployment.target),
      '--scenario', 'kill-node', '--kill-replica-cmd', `${deployment.commands.killReplica}; sleep 5`, '--start-replica-cmd', deployment.commands.startReplica,
    ]);
    await hactl.waitForStderr(/checking/, 20_000);
    // Into the kill command: the replica died at once, the command then sleeps 5 s.
    await pollUntil(async () => (await deployment.replicaAnswers('replica-1')) === false || undefined, { timeoutMs: 20_000, intervalMs: 50, onTimeout: () => new Error('replica-1 was never killed') });
    await sleep(500);
    hactl.child.kill('SIGINT');
    const { code, stderr } = await hactl.finished;
    expect(code).toBe(130);
    expect(stderr).toMatch(/stopped after replica-1 was killed by --kill-replica-cmd: hactl did not start it again/);
    expect(await deployment.replicaAnswers('replica-1')).toBe(false);
    // Put the deployment back as it was for the next test: the replica, and no session of this run.
    execFileSync('sh', ['-c', deployment.commands.startReplica.replace('{replica}', 'replica-1')]);
    deployment.clearSessions();
    await pollUntil(async () => (await deployment.replicaAnswers('replica-1')) || undefined, { timeoutMs: 15_000, intervalMs: 100, onTimeout: () => new Error('replica-1 did not come back') });
  });

  it("logs every user out at the end, leaving no session of hactl's in the deployment's Redis, and --rate caps every second", async () => {
    const { code, stderr, samples } = await runJson(['--scenario', 'login-read', '--rate', '200']);
    expect(code, stderr).toBe(0);
    expect(deployment.sessionKeys()).toEqual([]);
    const sends = samples.map((sample) => sample.at).sort((a, b) => a - b);
    expect(sends.length).toBeGreaterThan(300);
    // Every sliding one-second window: the request 200 places later was sent a second or more after.
    for (let i = 0; i + 200 < sends.length; i++) expect(sends[i + 200]! - sends[i]!).toBeGreaterThanOrEqual(1000);
  });
});

describe('a live deployment whose Redis the platform restarts by itself', () => {
  const deployments: Deployment[] = [];
  afterAll(async () => {
    for (const deployment of deployments) await deployment.stop();
  });

  it.each([
    ['aof-always', 0],
    ['none', 1],
  ] as const)('kill-store with no start command, Redis %s back 3 s later: session loss %d', async (persistence, loss) => {
    const deployment = await startDeployment({ persistence, storeDownStatus: 401 });
    deployments.push(deployment);
    const out = path.join(deployment.dir, 'report.json');
    const { code, stderr } = await runHactl([
      ...runAgainst(deployment.target),
      ...['--users', '30', '--seed', '14', '--scenario', 'kill-store', '--kill-store-cmd', deployment.commands.killRedis(3000), '--format', 'json', '--out', out],
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(await readFile(out, 'utf8')) as Report;
    const row = report.results[0]!;
    expect(row.status, row.reason).toBe('ok');
    expect(row.warnings ?? []).toEqual([]);
    expect(row.metrics!.faults[0]).toMatchObject({ kind: 'kill-store', observed: true });
    expect(row.metrics!.sessionLoss).toBe(loss);
    expect(row.metrics!.usersWithSession).toBe(30);
    // The reads answered 401 while Redis was down are misses of the row, not left out of it.
    expect(row.metrics!.hitRate).toBeLessThan(1);
    // Measured once Redis was back, about the platform's 3 s after the kill; not as soon as the
    // app stopped answering 5xx (it never did: it answered 401).
    const [fault] = row.metrics!.faults;
    expect(fault!.endAt! - fault!.at).toBeGreaterThanOrEqual(2500);
    // And recovery says so, though the app answered 401s, not errors, while Redis was down.
    expect(row.metrics!.recoveryMs).toBeGreaterThanOrEqual(2500);
  });
});

describe('a target where nothing listens', () => {
  it('runs no fault command and exits non-zero with the reason', async () => {
    const [port] = await freePorts(1);
    const marker = path.join(process.env.TMPDIR ?? '/tmp', `hactl-fired-${port}`);
    const { code, stdout, stderr } = await runHactl([...runAgainst(`http://127.0.0.1:${port}`), '--scenario', 'kill-node', '--kill-replica-cmd', `touch ${marker}`]);
    expect(code).toBe(3);
    expect(existsSync(marker)).toBe(false);
    expect(`${stdout}\n${stderr}`).toMatch(/ECONNREFUSED|connection refused/i);
    expect(stderr).not.toMatch(STACK_LINE);
  });
});

/** Whether any request sent after `at` failed (no answer or a 5xx). */
function failedAfter(samples: readonly Sample[], at: number): boolean {
  return samples.some((sample) => sample.outcome === 'error' && sample.end > at);
}

async function latest(dir: string, prefix: string): Promise<string | undefined> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(dir)).filter((name) => name.startsWith(prefix)).sort().at(-1);
}
