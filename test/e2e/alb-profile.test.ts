import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALB_HEALTH_CHECK, detectionBoundMs, detectionWindowMs } from '../../src/balancer/settings.js';
import type { Report } from '../../src/report/model.js';
import { startHactl, STACK_LINE, type Finished, type Started } from './helpers.js';
import { expectKillNode, row } from './oracle.js';

/**
 * kill-node behind ALB's own health-check timing: the dead replica stays in rotation for most of
 * a minute (two failed checks 30 s apart), so each row takes about a minute. The two rows run as
 * two hactl runs at once: nearly all of a row is waiting for the next health check, and what the
 * test asserts (detection within ALB's window, users lost) does not depend on the machine's load.
 * DESIGN.md's figures must not depend on the profile.
 */
const ALB_STRATEGIES = ['sticky', 'redis'] as const;
type AlbStrategy = (typeof ALB_STRATEGIES)[number];

describe('hactl run --balancer-profile alb --scenario kill-node, sticky and redis', () => {
  let dir: string;
  const runs = new Map<AlbStrategy, { finished: Finished; report: Report; hactl: Started }>();
  const reportOf = (strategy: AlbStrategy) => runs.get(strategy)!.report;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-alb-'));
    // allSettled: a run that failed must not leave the hook while the other still runs.
    const settled = await Promise.allSettled(
      ALB_STRATEGIES.map(async (strategy) => {
        const out = path.join(dir, `${strategy}.json`);
        const hactl = startHactl(['run', '--balancer-profile', 'alb', '--strategy', strategy, '--scenario', 'kill-node', '--replicas', '3', '--users', '30', '--format', 'json', '--out', out], {}, 270_000);
        const finished = await hactl.finished;
        const text = await readFile(out, 'utf8').catch(() => undefined);
        // No report: every test of the file would fail on a missing field; say why once, with hactl's own words.
        if (text === undefined) throw new Error(`--strategy ${strategy} wrote no report (exit ${finished.code ?? finished.signal}):\n${finished.stderr}`);
        runs.set(strategy, { finished, report: JSON.parse(text) as Report, hactl });
      }),
    );
    for (const result of settled) if (result.status === 'rejected') throw result.reason;
  }, 300_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(ALB_STRATEGIES)('%s: completes, exit 0, and leaves no process behind', async (strategy) => {
    const { finished, hactl } = runs.get(strategy)!;
    expect(finished.code, finished.stderr).toBe(0);
    expect(await hactl.leftovers()).toEqual([]);
  });

  it.each(ALB_STRATEGIES)("%s: DESIGN.md's figures, after a detection ALB's timing allows", (strategy) => {
    const report = reportOf(strategy);
    expectKillNode(report, strategy);
    const m = row(report, strategy, 'kill-node').metrics!;
    const window = detectionWindowMs(ALB_HEALTH_CHECK, 'unhealthy');
    // A killed process refuses at once, so the second failed check comes one interval after the first.
    expect(m.detectionMs!).toBeGreaterThanOrEqual(window.earliestMs - 1_000);
    expect(m.detectionMs!).toBeLessThanOrEqual(detectionBoundMs(ALB_HEALTH_CHECK, 'unhealthy'));
    // Until then the balancer kept sending a third of the requests to the dead replica, as ALB does.
    expect(m.phases.find((phase) => phase.name === 'failover')!.errors).toBeGreaterThan(0);
  });

  it('sticky loses the sessions of the killed replica (10 of 30 here), redis none', () => {
    expect(row(reportOf('sticky'), 'sticky', 'kill-node').metrics).toMatchObject({ usersLost: 10, usersWithSession: 30 });
    expect(row(reportOf('redis'), 'redis', 'kill-node').metrics).toMatchObject({ usersLost: 0, usersWithSession: 30 });
  });

  it.each(ALB_STRATEGIES)("%s: states the profile and how long a dead replica stays in rotation, so a minute-long row reads as ALB's truth", (strategy) => {
    const { report, finished } = runs.get(strategy)!;
    // ALB's timing; the path and the codes accepted are the app profile's (the demo app's /health, any 2xx).
    expect(report.settings.balancer).toMatchObject({ profile: 'alb', healthCheck: { ...ALB_HEALTH_CHECK, path: '/health', matcher: '200-299' } });
    expect(finished.stdout).toContain('alb profile: round_robin, health check every 30000 ms, unhealthy after 2 (a dead replica leaves rotation 30–70 s after it dies)');
  });
});

describe('a scenario that gives up before the alb profile can notice', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-alb-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is refused at load: exit 2, one line naming the bound and the profile, nothing started', async () => {
    const file = path.join(dir, 'my.yaml');
    await writeFile(
      file,
      [
        'name: my-kill',
        'description: kill-node with the wait it had before profiles',
        'requires: { replicas: 2 }',
        'phases:',
        '  - { name: login, do: login }',
        '  - { name: before, do: read, reads: 6 }',
        '  - { name: kill, do: kill-replica, replica: 1 }',
        '  - { name: failover, do: read, until: fault-detected, timeoutMs: 15000 }',
        '  - { name: after, do: read, reads: 12 }',
        '',
      ].join('\n'),
    );
    const hactl = startHactl(['run', '--balancer-profile', 'alb', '--strategy', 'redis', '--scenario', file]);
    const { code, stderr, stdout } = await hactl.finished;
    expect(code, stderr).toBe(2);
    expect(stderr.trim()).toBe(`hactl: ${file}: phases[3].timeoutMs: 15000 ms is shorter than the alb balancer profile's detection bound of 110000 ms; remove it or raise it`);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stdout).toBe('');
    expect(await hactl.leftovers()).toEqual([]);
    // The same file runs at the fast profile's timing.
    const fast = startHactl(['run', '--strategy', 'redis', '--scenario', file, '--replicas', '2', '--users', '5', '--quiet']);
    expect((await fast.finished).code).toBe(0);
  });
});
