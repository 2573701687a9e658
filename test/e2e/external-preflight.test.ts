import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answers200 } from '../../src/runtime/http-probe.js';
import { freePorts } from '../../src/platform/ports.js';
import { pollUntil } from '../../src/platform/time.js';
import type { Report } from '../../src/report/model.js';
import { runHactl, startHactl, STACK_LINE } from './helpers.js';

const APP_ENTRY = fileURLToPath(new URL('../../dist/app/server.js', import.meta.url));
const exists = (file: string) => access(file).then(() => true, () => false);

/**
 * The pre-flight on --runtime external: before any fault command is fired, the target's health
 * path answers 2xx, a login gives a session and a read hits; otherwise the run halts with the
 * reason. The kill command here would leave a file behind, so "no fault command ran" is seen on
 * the disk, not taken from hactl's word.
 */
describe('hactl run --runtime external: the pre-flight', () => {
  let dir: string;
  /** A port where nothing listens: found free, and never bound. */
  let deadTarget: string;
  const killCmd = () => `touch ${dir}/killed-{replica}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-external-preflight-'));
    const [port] = await freePorts(1);
    deadTarget = `http://127.0.0.1:${port}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a target where nothing listens: no fault command runs, every row is an error with the reason, exit 3', async () => {
    const out = path.join(dir, 'dead.json');
    const hactl = startHactl(['run', '--runtime', 'external', '--target', deadTarget, '--strategy', 'redis', '--replicas', '3', '--scenario', 'login-read,kill-node', '--kill-replica-cmd', killCmd(), '--format', 'json', '--out', out]);
    const { code, stderr } = await hactl.finished;
    expect(code, stderr).toBe(3);
    const reason = `pre-flight start: ${deadTarget}/health: connection refused (ECONNREFUSED)`;
    expect(stderr).toContain(`redis: pre-flight start: FAILED: ${deadTarget}/health: connection refused (ECONNREFUSED)`);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(await exists(path.join(dir, 'killed-replica-1'))).toBe(false);
    const report = JSON.parse(await readFile(out, 'utf8')) as Report;
    expect(report.results.map((row) => [row.scenario, row.status, row.reason])).toEqual([
      ['login-read', 'error', reason],
      ['kill-node', 'error', reason],
    ]);
    expect(report.results[0]!.fix).toMatch(/check --target/);
    // What the report says of the deployment's balancer: only what hactl knows.
    expect(report.settings.balancer).toEqual({ kind: 'external', target: deadTarget, probePath: '/health' });
    expect(await hactl.leftovers()).toEqual([]);
  });

  it('with --no-preflight the row still does not fire its kill command at a target that does not answer', async () => {
    const { code, stdout, stderr } = await runHactl(['run', '--runtime', 'external', '--target', deadTarget, '--strategy', 'redis', '--replicas', '3', '--scenario', 'kill-node', '--kill-replica-cmd', killCmd(), '--no-preflight', '--quiet']);
    expect(code, stderr).toBe(3);
    expect(stdout).toContain(`redis × kill-node: error: the cluster did not start: ${deadTarget}/health: connection refused (ECONNREFUSED)`);
    expect(await exists(path.join(dir, 'killed-replica-1'))).toBe(false);
  });

  it('hactl check --runtime external says why, and exits 1', async () => {
    const { code, stdout } = await runHactl(['check', '--runtime', 'external', '--target', deadTarget, '--strategy', 'redis']);
    expect(code).toBe(1);
    expect(stdout).toContain(`redis  start   FAIL  ${deadTarget}/health: connection refused (ECONNREFUSED)`);
  });

  describe('against a target that answers', () => {
    const servers: ChildProcess[] = [];
    let target: string;
    let redisUrl: string;

    beforeAll(async () => {
      const [redisPort, appPort] = await freePorts(2);
      redisUrl = `redis://127.0.0.1:${redisPort}`;
      servers.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
      servers.push(
        spawn(process.execPath, [APP_ENTRY], {
          stdio: 'ignore',
          env: { ...process.env, PORT: String(appPort), HACTL_REPLICA_ID: 'replica-1', HACTL_SESSION_STORE: 'redis', HACTL_STORE_URL: redisUrl },
        }),
      );
      target = `http://127.0.0.1:${appPort}`;
      await pollUntil(async () => (await answers200(`${target}/health`)) || undefined, { timeoutMs: 15_000, intervalMs: 100, onTimeout: () => new Error(`${target} did not come up`) });
    });
    afterAll(() => {
      for (const server of servers) server.kill('SIGKILL');
    });

    const sessionKeys = async () => {
      const client = createClient({ url: redisUrl });
      await client.connect();
      try {
        return await client.dbSize();
      } finally {
        await client.quit();
      }
    };

    it("passes start, login and read, says the deployment's store is not checked, and its user logs out: no session left behind", async () => {
      const { code, stdout, stderr } = await runHactl(['check', '--runtime', 'external', '--target', target, '--strategy', 'redis']);
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toBe(`redis  start   ok    ${target}/health answered 2xx`);
      expect(lines.find((line) => line.startsWith('redis  login '))).toMatch(/ok {4}POST \/login answered 200/);
      expect(lines.find((line) => line.startsWith('redis  read '))).toMatch(/ok {4}GET \/session answered 200 .*: the hit predicate holds/);
      expect(lines.find((line) => line.startsWith('redis  store '))).toBe("redis  store   ok    not checked: hactl cannot see the deployment's own redis (not started by hactl)");
      // The login made a session in the deployment's Redis; the logout removed it.
      expect(await sessionKeys()).toBe(0);
    });

    it('a run says which health path it checks where other runtimes start a cluster', async () => {
      const { code, stderr } = await runHactl(['run', '--runtime', 'external', '--target', target, '--strategy', 'redis', '--replicas', '1', '--scenario', 'login-read', '--users', '5']);
      expect(code, stderr).toBe(0);
      expect(stderr).toContain(`hactl: redis × login-read: checking ${target}/health\n`);
      expect(stderr).not.toContain('starting cluster');
      expect(stderr).toContain('redis: pre-flight read: ok');
    });
  });
});
