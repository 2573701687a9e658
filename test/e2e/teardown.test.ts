import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Report } from '../../src/report/model.js';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/platform/time.js';
import { runIdOf, startHactl, STACK_LINE } from './helpers.js';

const names = (seen: Map<number, string>) => [...new Set(seen.values())];

/**
 * Everything hactl starts, it stops: every process seen descending from hactl while it ran is
 * checked after it exits, after a normal run, a failing run, and stop signals mid-run.
 */
describe('teardown', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-teardown-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['SIGINT', 130, 'redis × kill-node: starting cluster', 'redis-server'],
    ['SIGTERM', 143, 'postgres × kill-node: starting cluster', 'postgres'],
    ['SIGHUP', 129, 'redis × kill-node: starting cluster', 'redis-server'],
  ] as const)('%s in the middle of a run stops every replica and store, writes the report of the rows that finished, then exits %d', async (signal, exitCode, moment, store) => {
    const out = path.join(dir, `interrupted-${signal}.json`);
    const junit = path.join(dir, `interrupted-${signal}.xml`);
    const hactl = startHactl(['run', '--strategy', 'redis,postgres', '--scenario', 'login-read,kill-node', '--users', '20', '--format', 'json', '--out', out, '--junit', junit]);
    await hactl.waitForStderr(moment, 60_000);
    // Let the replicas come up, so that the signal lands with store and replicas running.
    await new Promise((resolve) => setTimeout(resolve, 300));
    hactl.child.kill(signal);
    const finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(exitCode);
    expect(finished.stderr).toContain(`interrupted by ${signal}; everything hactl started has been stopped`);
    expect(finished.stderr).not.toMatch(STACK_LINE);
    // The probe saw the store and the replicas while they ran, so an empty answer means something.
    expect(names(hactl.seen())).toEqual(expect.arrayContaining([store, 'node']));
    expect(await hactl.leftovers()).toEqual([]);
    // The rows that finished before the signal are kept; the one under way and those after it are marked.
    const report = JSON.parse(await readFile(out, 'utf8')) as Report;
    const statuses = Object.fromEntries(report.results.map((row) => [`${row.strategy} × ${row.scenario}`, row.status]));
    const interruptedAt = moment.replace(': starting cluster', '');
    const order = ['redis × login-read', 'redis × kill-node', 'postgres × login-read', 'postgres × kill-node'];
    for (const [index, row] of order.entries()) expect(statuses[row], row).toBe(index < order.indexOf(interruptedAt) ? 'ok' : 'interrupted');
    expect(report.results.find((row) => row.status === 'interrupted')!.reason).toBe(`interrupted by ${signal}`);
    expect(await readFile(junit, 'utf8')).toContain(`<error message="${interruptedAt}: interrupted by ${signal}"`);
  }, 90_000);

  // The last two: a process that shows the fault was under way (the fault proxy beside 3 replicas;
  // a restarted replica), and how many of them were seen at least.
  it.each([
    ['store-outage', 'redis', 'redis × store-outage: starting cluster', 1_500, 'node', undefined, 4],
    ['rolling-restart', 'redis', 'redis × rolling-restart: starting cluster', 1_500, 'node', undefined, 4],
    // Servers, not its short-lived --version: the primary, the replica, and the killed primary started again as a replica (the failover is done, the writes go on).
    ['store-failover', 'redis:replica', 'redis:replica × store-failover: starting cluster', 1_500, 'redis-server', '--version', 3],
  ] as const)('SIGINT during %s (a fault under way) stops everything, fault proxy and restarted processes included', async (scenario, strategy, moment, delayMs, evidence, except, atLeast) => {
    const hactl = startHactl(['run', '--strategy', strategy, '--scenario', scenario, '--users', '20']);
    const seen = () => [...hactl.seen()].filter(([pid, name]) => name === evidence && (except === undefined || !(hactl.commands().get(pid) ?? '').includes(except))).length;
    await hactl.waitForStderr(moment, 60_000);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    // On a busy machine the fault may come later than the delay: wait until it shows.
    await pollUntil(() => (seen() >= atLeast ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
      onTimeout: () => new Error(`fewer than ${atLeast} ${evidence} processes were seen: ${hactl.stderr()}`),
    });
    hactl.child.kill('SIGINT');
    const finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(130);
    expect(finished.stderr).not.toMatch(STACK_LINE);
    expect(seen()).toBeGreaterThanOrEqual(atLeast);
    expect(await hactl.leftovers()).toEqual([]);
  }, 90_000);

  it('SIGINT while a killed store is down stops everything and does not start the store again', async () => {
    const scenario = path.join(dir, 'store-down.yaml');
    await writeFile(
      scenario,
      'name: store-down\ndescription: the store stays down for 20 s\nphases:\n  - { name: login, do: login }\n  - { name: kill, do: kill-store, downMs: 20000 }\n',
    );
    const hactl = startHactl(['run', '--strategy', 'redis', '--scenario', scenario, '--users', '5']);
    await hactl.waitForStderr('redis × store-down: starting cluster', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    hactl.child.kill('SIGINT');
    const finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(130);
    // Killed once, never restarted: the one redis-server hactl started (besides its --version
    // probe). The probe can exit within one poll of /proc, before its command line is read (seen
    // in CI under load): a server is one whose command line was read, as a store's always is.
    const servers = [...hactl.seen()].filter(([pid, name]) => {
      const command = hactl.commands().get(pid);
      return name === 'redis-server' && command !== undefined && !command.includes('--version');
    });
    expect(servers).toHaveLength(1);
    expect(await hactl.leftovers()).toEqual([]);
  }, 90_000);

  it('a run that fails mid-way (a scenario error) reports the failed row, exits 3 and stops everything', async () => {
    const file = path.join(dir, 'waits-for-nothing.yaml');
    // Waiting for a fault nobody caused fails once the cluster and users are running.
    await writeFile(file, 'name: waits-for-nothing\ndescription: d\nphases:\n  - { name: login, do: login }\n  - { name: wait, do: read, until: fault-detected }\n');
    const hactl = startHactl(['run', '--strategy', 'redis', '--scenario', file, '--format', 'json', '--quiet']);
    const finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(3);
    const [row] = (JSON.parse(finished.stdout) as { results: Array<{ status: string; reason: string }> }).results;
    expect(row).toMatchObject({ status: 'error', reason: 'phase wait waits for a fault to be detected, but no replica was killed before it' });
    expect(names(hactl.seen())).toEqual(expect.arrayContaining(['redis-server', 'node']));
    expect(await hactl.leftovers()).toEqual([]);
  }, 60_000);

  it("a replica whose group keeps a zombie nobody reaps still stops, and the run ends with its report", async () => {
    // Each replica's command leaves, beside the app, a parent outside its process group that
    // never reaps, and a child of that parent inside the group: once the stop signal ends the
    // child, a zombie stays in the group for as long as the parent lives, as an orphan does
    // under a PID 1 that does not reap. The parent lives 20 s past the replica, longer than the
    // stop's whole grace and kill wait, then exits; the test kills it sooner.
    const pids = path.join(dir, 'unreaped-parents');
    const script = path.join(dir, 'unreaped.py');
    await writeFile(
      script,
      [
        'import os, signal, sys, time',
        'group = os.getpgrp()',
        'if os.fork() == 0:',
        '    os.setpgid(0, 0)',
        '    signal.signal(signal.SIGTERM, signal.SIG_IGN)',
        '    if os.fork() == 0:',
        '        signal.signal(signal.SIGTERM, signal.SIG_DFL)',
        '        os.setpgid(0, group)',
        '        time.sleep(120)',
        '        os._exit(0)',
        `    with open(${JSON.stringify(pids)}, 'a') as f: f.write(f"{os.getpid()}\\n")`,
        '    time.sleep(20)',
        '    os._exit(0)',
        'time.sleep(120)',
        '',
      ].join('\n'),
    );
    const app = fileURLToPath(new URL('../../dist/app/server.js', import.meta.url));
    const command = `python3 ${script} & HACTL_SESSION_STORE=memory "${process.execPath}" "${app}" & wait`;
    const out = path.join(dir, 'unreaped.json');
    const hactl = startHactl(['run', '--app-cmd', command, '--strategy', 'sticky', '--scenario', 'login-read', '--users', '10', '--quiet', '--format', 'json', '--out', out]);
    try {
      const finished = await hactl.finished;
      expect(finished.code, finished.stderr).toBe(0);
      expect(finished.stderr).not.toMatch(STACK_LINE);
      const report = JSON.parse(await readFile(out, 'utf8')) as Report;
      expect(report.results).toHaveLength(1);
      expect(report.results[0]).toMatchObject({ strategy: 'sticky', scenario: 'login-read', status: 'ok' });
      // Gone by hactl's meaning: a stop that waited for the zombie would have given up 5 s after
      // its SIGKILL (the parent outlives that) and left a teardown-failed warning here.
      expect(report.results[0]!.warnings ?? []).toEqual([]);
      // The setup did what it says: every replica (and hactl's check of the command before the
      // row, which starts it too) left an unreaped parent behind.
      expect((await readFile(pids, 'utf8')).trim().split('\n').length).toBeGreaterThanOrEqual(report.settings.replicas);
    } finally {
      for (const pid of (await readFile(pids, 'utf8').catch(() => '')).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  }, 90_000);

  it('a balancer port that is taken: one line naming it, exit 3, nothing started', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const hactl = startHactl(['run', '--strategy', 'redis', '--scenario', 'login-read', '--port', String(port)]);
      const finished = await hactl.finished;
      expect(finished.code).toBe(3);
      expect(finished.stderr).toContain(`hactl: --port: cannot listen on 127.0.0.1:${port} (EADDRINUSE); choose another port, or leave it out to use a free one`);
      expect(finished.stderr).not.toMatch(STACK_LINE);
      expect(await hactl.leftovers()).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('if hactl itself is SIGKILLed, its stores and replicas die with it', async () => {
    const hactl = startHactl(['run', '--strategy', 'redis', '--scenario', 'kill-node', '--users', '200', '--reads', '40']);
    await hactl.waitForStderr('redis × kill-node: starting cluster', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    hactl.child.kill('SIGKILL');
    await hactl.finished;
    expect(names(hactl.seen())).toEqual(expect.arrayContaining(['redis-server', 'node']));
    // The kernel delivers the parent-death signal at once; give it a moment to land.
    let left: string[] = [];
    for (let i = 0; i < 20; i++) {
      left = await hactl.leftovers();
      if (left.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(left).toEqual([]);
    // Nor does its run directory: the watcher that reaps what hactl started removes that too.
    const runId = runIdOf((await hactl.finished).stderr);
    const runDirs = async () => (await readdir(os.tmpdir())).filter((entry) => entry.startsWith(`hactl-${runId}-`));
    let dirs = await runDirs();
    for (let i = 0; i < 30 && dirs.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      dirs = await runDirs();
    }
    // Removed here all the same, so that a failure leaves nothing behind either.
    for (const entry of dirs) await rm(path.join(os.tmpdir(), entry), { recursive: true, force: true });
    expect(dirs).toEqual([]);
  }, 60_000);
});
