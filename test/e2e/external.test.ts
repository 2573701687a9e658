import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answers200 } from '../../src/runtime/http-probe.js';
import { freePorts } from '../../src/platform/ports.js';
import { pollUntil } from '../../src/platform/time.js';
import type { KillReplicaFault } from '../../src/driver/phases/kill-replica.js';
import type { KillStoreFault } from '../../src/driver/phases/kill-store.js';
import type { Report } from '../../src/report/model.js';
import { runHactl, STACK_LINE } from './helpers.js';
import { row } from './oracle.js';

const APP_ENTRY = fileURLToPath(new URL('../../dist/app/server.js', import.meta.url));
const PATH = `${process.env.PATH}:/usr/local/sbin:/usr/sbin`;

/**
 * A deployment hactl did not build, as a user has one: three demo-app replicas on one Redis
 * behind a real HAProxy that does not tag answers with the replica. The test starts it, and its
 * fault commands act on processes the test started, by PID.
 */
describe('hactl run --runtime external', () => {
  let dir: string;
  let target: string;
  /** The same replicas behind a frontend that names the replica in each answer (x-hactl-replica): replica identity known. */
  let tagged: string;
  const servers: ChildProcess[] = [];
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;

  const replicaPid = async (id: string) => Number(await readFile(path.join(dir, `${id}.pid`), 'utf8'));
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-external-'));
    const [redisPort, balancerPort, taggedPort, ...replicaPorts] = await freePorts(6);
    // The platform's way to (re)start the store: with an append-only file fsynced on every write
    // (`aof`), or without persistence (`none`, which also ignores the file an `aof` one left).
    await writeFile(
      path.join(dir, 'start-redis.sh'),
      [
        'set -e',
        `case $1 in aof) persist="--appendonly yes --appendfsync always";; none) persist="--appendonly no";; *) exit 2;; esac`,
        `setsid redis-server --port ${redisPort} --bind 127.0.0.1 --save '' --dir "${dir}" $persist >"${dir}/redis.log" 2>&1 </dev/null &`,
        `echo $! >"${dir}/redis.pid"`,
      ].join('\n'),
    );
    execFileSync('sh', [path.join(dir, 'start-redis.sh'), 'aof'], { env: { ...env, PATH } });
    // The platform's way to (re)start a replica: a script that records the PID it started.
    await writeFile(
      path.join(dir, 'start-replica.sh'),
      [
        'set -e',
        'n=${1#replica-}',
        `case $n in 1) port=${replicaPorts[0]};; 2) port=${replicaPorts[1]};; 3) port=${replicaPorts[2]};; *) exit 2;; esac`,
        `PORT=$port HACTL_REPLICA_ID=$1 HACTL_SESSION_STORE=redis HACTL_STORE_URL=redis://127.0.0.1:${redisPort} setsid "${process.execPath}" "${APP_ENTRY}" >"${dir}/$1.log" 2>&1 </dev/null &`,
        `echo $! >"${dir}/$1.pid"`,
      ].join('\n'),
    );
    for (const id of ['replica-1', 'replica-2', 'replica-3']) execFileSync('sh', [path.join(dir, 'start-replica.sh'), id], { env });
    await writeFile(
      path.join(dir, 'haproxy.cfg'),
      [
        'defaults',
        '  mode http',
        '  timeout connect 1s',
        '  timeout client 10s',
        '  timeout server 10s',
        'frontend web',
        `  bind 127.0.0.1:${balancerPort}`,
        '  default_backend app',
        'backend app',
        '  balance roundrobin',
        '  option httpchk GET /health',
        '  default-server inter 200 fall 2 rise 2',
        ...replicaPorts.map((port, i) => `  server replica-${i + 1} 127.0.0.1:${port} check`),
        'frontend tagged',
        `  bind 127.0.0.1:${taggedPort}`,
        '  default_backend tagged',
        'backend tagged',
        '  balance roundrobin',
        '  option httpchk GET /health',
        '  default-server inter 200 fall 2 rise 2',
        '  http-response set-header x-hactl-replica %s',
        ...replicaPorts.map((port, i) => `  server replica-${i + 1} 127.0.0.1:${port} check`),
      ].join('\n') + '\n',
    );
    servers.push(spawn('haproxy', ['-f', path.join(dir, 'haproxy.cfg')], { stdio: 'ignore', env: { ...env, PATH } }));
    target = `http://127.0.0.1:${balancerPort}`;
    tagged = `http://127.0.0.1:${taggedPort}`;
    // Ready once every replica answers through HAProxy's round robin.
    let streak = 0;
    await pollUntil(async () => ((streak = (await answers200(`${target}/health`)) ? streak + 1 : 0) >= 6 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 100,
      onTimeout: () => new Error(`the deployment at ${target} did not come up`),
    });
  });

  afterAll(async () => {
    for (const file of (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.pid'))) {
      const pid = Number(await readFile(path.join(dir, file), 'utf8'));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    for (const server of servers) server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const runJson = async (args: string[], at = target) => {
    const out = path.join(dir, `report-${Date.now()}.json`);
    const result = await runHactl(['run', '--runtime', 'external', '--target', at, '--replicas', '3', '--users', '30', '--seed', '11', '--quiet', '--format', 'json', '--out', out, ...args]);
    const report = result.code === 0 || result.code === 3 ? (JSON.parse(await readFile(out, 'utf8')) as Report) : undefined;
    return { ...result, report };
  };

  it('runs what needs no fault, skips what does, and marks per-replica figures unknown', async () => {
    const { code, stderr, report } = await runJson(['--strategy', 'redis', '--scenario', 'login-read,cookie-swap,kill-node,kill-store,restart-node,store-outage']);
    expect(code, stderr).toBe(0);
    expect(report!.settings).toMatchObject({ runtime: 'external', app: { profile: 'demo', target }, balancer: { kind: 'external' } });

    const loginRead = row(report!, 'redis', 'login-read').metrics!;
    expect(loginRead.hitRate).toBe(1);
    expect(loginRead.reads).toBe(300);
    // HAProxy does not say which replica answered: unknown, not a guess and not zero.
    expect(loginRead.replicasKnown).toBe(false);
    expect(loginRead.requestsPerReplica).toEqual({});
    expect(loginRead.imbalance).toBeNull();
    expect(row(report!, 'redis', 'cookie-swap').findings!.find((f) => f.id === 'forged-id-adopted')).toMatchObject({ passed: true });

    const skipped = (scenario: string) => report!.results.find((r) => r.scenario === scenario)!;
    expect(skipped('kill-node')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('give --kill-replica-cmd') });
    expect(skipped('kill-store')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('give --kill-store-cmd') });
    expect(skipped('restart-node')).toMatchObject({ status: 'skipped', reason: expect.stringContaining("cannot control the deployment's balancer") });
    expect(skipped('store-outage')).toMatchObject({ status: 'skipped', reason: expect.stringContaining('fault proxy') });
  });

  it('kills a replica with --kill-replica-cmd, verified by --verify-cmd: the deployment fails over and Redis keeps every session', async () => {
    const victim = await replicaPid('replica-1');
    const { code, stderr, report } = await runJson([
      '--strategy',
      'redis',
      '--scenario',
      'kill-node',
      '--kill-replica-cmd',
      `kill -s {signal} $(cat ${dir}/{replica}.pid)`,
      '--verify-cmd',
      `test {fault} = kill-replica && ! kill -0 $(cat ${dir}/{replica}.pid)`,
      '--start-replica-cmd',
      `sh ${dir}/start-replica.sh {replica}`,
    ]);
    expect(code, stderr).toBe(0);
    // The fault happened: the process the command named is gone, and the start command replaced it.
    expect(alive(victim)).toBe(false);
    expect(alive(await replicaPid('replica-1'))).toBe(true);
    const result = row(report!, 'redis', 'kill-node');
    expect(result.warnings ?? []).toEqual([]);
    const metrics = result.metrics!;
    expect(metrics.faults).toEqual([expect.objectContaining({ kind: 'kill-replica', target: 'replica-1', observed: true, observation: expect.stringContaining('--verify-cmd passed') })]);
    const fault = metrics.faults[0]! as KillReplicaFault;
    expect(fault.commands!.map((run) => [run.flag, run.exit])).toEqual([
      ['--kill-replica-cmd', 'exit 0'],
      ['--verify-cmd', 'exit 0'],
      ['--start-replica-cmd', 'exit 0'],
    ]);
    expect(fault.commands![0]!.command).toBe(`kill -s KILL $(cat ${dir}/replica-1.pid)`);
    // HAProxy (no retries) fails the requests sent to the dead replica: that is when the fault took effect.
    expect(fault.effect).toBe('first-failure');
    expect(fault.at).toBeGreaterThanOrEqual(fault.commands![0]!.startAt);
    // Answers do not say which replica gave them: detection cannot be seen, and is not guessed from health probes.
    expect(fault.detectedAt).toBeUndefined();
    expect(metrics.detectionMs).toBeNull();
    // Back in the answers' health streak after the start command.
    expect(fault.endAt).toBeGreaterThan(fault.commands![2]!.endAt - 1);
    expect(metrics.sessionLoss).toBe(0);
    expect(metrics.usersWithSession).toBe(30);
    expect(metrics.recovered).toBe(true);
    expect(metrics.phases.find((phase) => phase.name === 'after')!.errors).toBe(0);
  });

  it('a kill command the shell cannot find killed nothing: the row is an error, and no replica is said to be left down', async () => {
    const { code, stderr, report } = await runJson(['--strategy', 'redis', '--scenario', 'kill-node', '--kill-replica-cmd', './no-such-kill-script {replica}']);
    expect(code, stderr).toBe(3);
    const result = report!.results[0]!;
    expect(result.status).toBe('error');
    expect(result.reason).toContain('exit 127');
    expect(result.warnings ?? []).not.toContainEqual(expect.objectContaining({ id: 'not-restored' }));
  });

  it('a kill command that does nothing: the fault is not observed, the row is invalid (exit 3) and fails its expectation (exit 1)', async () => {
    const pids = await Promise.all(['replica-1', 'replica-2', 'replica-3'].map(replicaPid));
    const args = ['--strategy', 'redis', '--scenario', 'kill-node', '--kill-replica-cmd', 'echo pretending to kill {replica}'];
    const { code, stderr, report } = await runJson(args);
    expect(code, stderr).toBe(3);
    const result = report!.results[0]!;
    expect(result.status).toBe('ok');
    expect(result.warnings).toEqual([
      expect.objectContaining({ id: 'fault-not-observed', invalid: true, message: expect.stringContaining('cannot see which replica answers') }),
      expect.objectContaining({ id: 'not-restored', message: expect.stringContaining('replica-1') }),
    ]);
    expect(result.metrics!.faults[0]).toMatchObject({ observed: false, effect: 'command-start', commands: [{ flag: '--kill-replica-cmd', exit: 'exit 0', output: 'pretending to kill replica-1' }] });
    // Nothing was harmed, and no wait for a detection that could not come.
    expect(pids.every(alive)).toBe(true);
    const config = path.join(dir, 'expect.yaml');
    await writeFile(config, "expect:\n  redis:\n    kill-node: { sessionLoss: '<= 0.5' }\n");
    const table = await runHactl(['run', '--config', config, '--runtime', 'external', '--target', target, '--replicas', '3', '--users', '30', '--seed', '11', ...args, '--format', 'table']);
    expect(table.code, table.stderr).toBe(1);
    expect(table.stdout).toMatch(/invalid/);
  });

  it('refuses to fire a fault at a target that does not answer: no command runs', async () => {
    const [closed] = await freePorts(1);
    const marker = path.join(dir, 'fired');
    const result = await runHactl(['run', '--runtime', 'external', '--target', `http://127.0.0.1:${closed}`, '--replicas', '3', '--users', '5', '--strategy', 'redis', '--scenario', 'kill-node', '--kill-replica-cmd', `touch ${marker}`, '--quiet', '--format', 'json']);
    expect(result.code).toBe(3);
    // The pre-flight finds it first (test/e2e/external-preflight.test.ts has the rest).
    expect((JSON.parse(result.stdout) as Report).results[0]!.reason).toMatch(/\/health: connection refused \(ECONNREFUSED\)/);
    await expect(readFile(marker)).rejects.toThrow();
  });

  it('refuses to fire a fault when no read of the scenario hit before it, pre-flight or not', async () => {
    const marker = path.join(dir, 'fired');
    // The demo app's profile with a hit predicate no answer satisfies.
    const profile = path.join(dir, 'never-hits.yaml');
    await writeFile(
      profile,
      ['name: never-hits', 'cookie: JSESSIONID', 'login: { method: POST, path: /login, json: { userId: "{{userId}}", userNm: "{{userNm}}" } }', 'read: { path: /session, hit: { status: 200, json: { $.userId: "not-{{userId}}" } } }'].join('\n') + '\n',
    );
    const result = await runHactl(['run', '--runtime', 'external', '--target', target, '--replicas', '3', '--users', '5', '--strategy', 'redis', '--app-profile', profile, '--no-preflight', '--scenario', 'kill-node', '--kill-replica-cmd', `touch ${marker}`, '--quiet', '--format', 'json']);
    expect(result.code).toBe(3);
    expect((JSON.parse(result.stdout) as Report).results[0]!.reason).toMatch(/no read of this scenario hit before the fault.*hactl fires no fault/);
    await expect(readFile(marker)).rejects.toThrow();
  });

  describe('kill-store, the store restarted by the platform (no --start-store-cmd) 3 s after the kill', () => {
    // Kills Redis and, as a platform would, starts it again 3 s later, in the background.
    const killStore = (persistence: string) =>
      `kill -9 $(cat ${dir}/redis.pid); (sleep 3; PATH="${PATH}" sh ${dir}/start-redis.sh ${persistence}) >/dev/null 2>&1 </dev/null &`;

    it.each([
      ['aof', 0],
      ['none', 1],
    ])('Redis with persistence %s: session loss %d, measured once the store is back', async (persistence, loss) => {
      const { code, stderr, report } = await runJson(['--strategy', 'redis', '--scenario', 'kill-store', '--kill-store-cmd', killStore(persistence as string)]);
      expect(code, stderr).toBe(0);
      const result = row(report!, 'redis', 'kill-store');
      expect(result.warnings ?? []).toEqual([]);
      const metrics = result.metrics!;
      const fault = metrics.faults[0]! as KillStoreFault;
      expect(fault).toMatchObject({ kind: 'kill-store', observed: true, effect: 'first-failure' });
      expect(fault.commands!.map((run) => run.flag)).toEqual(['--kill-store-cmd']);
      // Back only once the platform had started it: about 3 s after the kill, not at once.
      expect(fault.endAt! - fault.commands![0]!.startAt).toBeGreaterThan(2_500);
      expect(metrics.usersWithSession).toBe(30);
      expect(metrics.sessionLoss).toBe(loss);
      expect(metrics.recovered).toBe(true);
    });

    it('a store that does not come back within --fault-timeout is an error row, never a loss figure', async () => {
      const { code, report } = await runJson(['--strategy', 'redis', '--scenario', 'kill-store', '--kill-store-cmd', `kill -9 $(cat ${dir}/redis.pid)`, '--fault-timeout', '2']);
      execFileSync('sh', [path.join(dir, 'start-redis.sh'), 'aof'], { env: { ...env, PATH } });
      // The next test's pre-flight logs in at once: the replicas must have their store again.
      await pollUntil(async () => (await sessionsWork(target)) || undefined, { timeoutMs: 30_000, intervalMs: 200, onTimeout: () => new Error('the deployment did not get its Redis back') });
      expect(code).toBe(3);
      expect(report!.results[0]).toMatchObject({ status: 'error', reason: expect.stringMatching(/the store did not come back within 2 s of the kill \(last seen: a control user/) });
      expect(report!.results[0]!.metrics).toBeUndefined();
    });
  });

  describe('with replica identity (answers name the replica)', () => {
    const killArgs = (kill: string) => ['--strategy', 'redis', '--scenario', 'kill-node', '--kill-replica-cmd', kill, '--start-replica-cmd', `sh ${dir}/start-replica.sh {replica}`];

    it('dates the fault from when it took effect: a kill command that sleeps 3 s after killing times as the same kill without the sleep', async () => {
      const figures = [];
      for (const kill of [`kill -s {signal} $(cat ${dir}/{replica}.pid)`, `kill -s {signal} $(cat ${dir}/{replica}.pid); sleep 3`]) {
        const victim = await replicaPid('replica-1');
        const { code, stderr, report } = await runJson(killArgs(kill), tagged);
        expect(code, stderr).toBe(0);
        expect(alive(victim)).toBe(false);
        const result = row(report!, 'redis', 'kill-node');
        expect(result.warnings ?? []).toEqual([]);
        const metrics = result.metrics!;
        const fault = metrics.faults[0]! as KillReplicaFault;
        expect(fault).toMatchObject({ observed: true, observation: expect.stringContaining('replica-1 answered none of the') });
        expect(['first-failure', 'replica-gone']).toContain(fault.effect);
        // Killed and seen back in the answers to probes after the start command.
        expect(fault.commands!.map((run) => run.flag)).toEqual(['--kill-replica-cmd', '--start-replica-cmd']);
        expect(fault.endAt).toBeDefined();
        expect(alive(await replicaPid('replica-1'))).toBe(true);
        expect(metrics.recovered).toBe(true);
        expect(metrics.sessionLoss).toBe(0);
        // HAProxy checks every 200 ms and needs 2 failures: the replica got its last traffic within about a second.
        expect(metrics.detectionMs).not.toBeNull();
        expect(metrics.detectionMs!).toBeLessThan(2_000);
        figures.push({ detectionMs: metrics.detectionMs!, recoveryMs: metrics.recoveryMs!, commandMs: fault.commands![0]!.endAt - fault.commands![0]!.startAt });
      }
      const [plain, sleeping] = figures as [(typeof figures)[number], (typeof figures)[number]];
      expect(sleeping.commandMs).toBeGreaterThan(3_000);
      expect(Math.abs(sleeping.detectionMs - plain.detectionMs)).toBeLessThan(1_000);
      expect(Math.abs(sleeping.recoveryMs - plain.recoveryMs)).toBeLessThan(1_000);
    });

    it('a kill command that does nothing: the replica keeps answering, so the fault is not observed, without waiting out the detection bound', async () => {
      const started = Date.now();
      const victim = await replicaPid('replica-1');
      const { code, stderr, report } = await runJson(killArgs('echo pretending to kill {replica}'), tagged);
      expect(code, stderr).toBe(3);
      expect(Date.now() - started).toBeLessThan(30_000);
      // It never went down: no second one was started beside it, and the deployment is as it was.
      expect(await replicaPid('replica-1')).toBe(victim);
      expect(alive(victim)).toBe(true);
      const result = report!.results[0]!;
      expect(result.warnings).toHaveLength(1);
      expect((result.metrics!.faults[0] as KillReplicaFault).commands!.map((run) => run.flag)).toEqual(['--kill-replica-cmd']);
      expect(result.warnings![0]).toMatchObject({ id: 'fault-not-observed', invalid: true, message: expect.stringMatching(/replica-1 answered \d+ requests? sent from 2 s after the kill command ended: the fault did not happen/) });
      expect(result.metrics!.faults[0]).toMatchObject({ observed: false, effect: 'command-start' });
      expect(result.metrics!.detectionMs).toBeNull();
    });
  });

  it('a fault command that fails gives an error row with its output, and exit 3', async () => {
    const { code, report } = await runJson(['--strategy', 'redis', '--scenario', 'kill-node', '--kill-replica-cmd', 'echo no such replica {replica} >&2; exit 4']);
    expect(code).toBe(3);
    expect(report!.results[0]).toMatchObject({ status: 'error', reason: expect.stringMatching(/--kill-replica-cmd: .* failed \(exit 4\): no such replica replica-1/) });
  });

  it.each([
    [['--runtime', 'external', '--strategy', 'redis'], /^hactl: --runtime external: give --target URL/],
    [['--runtime', 'external', '--target', 'http://127.0.0.1:1/app', '--strategy', 'redis'], /^hactl: --target: expected the deployment's origin/],
    [['--runtime', 'external', '--target', 'http://127.0.0.1:1'], /^hactl: --runtime external: name the one strategy the deployment uses with --strategy/],
    [['--runtime', 'external', '--target', 'http://127.0.0.1:1', '--strategy', 'redis', '--balancer', 'haproxy'], /^hactl: --balancer: sets hactl's own balancer/],
    [['--kill-replica-cmd', 'true'], /^hactl: --kill-replica-cmd: apply to --runtime external; this run uses --runtime local/],
    [['--runtime', 'external', '--target', 'http://127.0.0.1:1', '--strategy', 'redis', '--kill-store-cmd', 'kill {pid}'], /^hactl: --kill-store-cmd: unknown field \{pid\}/],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const { code, stderr } = await runHactl(['run', ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(STACK_LINE);
  });
});

/** Whether a login through the deployment gives a session a read then finds (the demo app's requests). */
async function sessionsWork(target: string): Promise<boolean> {
  try {
    const login = await fetch(`${target}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'probe', userNm: 'Probe' }) });
    const cookie = login.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
    if (!login.ok || cookie === '') return false;
    const read = await fetch(`${target}/session`, { headers: { cookie } });
    return read.ok && ((await read.json()) as { userId?: string }).userId === 'probe';
  } catch {
    return false;
  }
}
