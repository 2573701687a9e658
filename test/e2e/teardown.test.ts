import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { markedProcesses, startHactl, STACK_LINE } from './helpers.js';

/**
 * Everything hactl starts, it stops: counted by a marker every child inherits, after a normal
 * run, a failing run, and SIGINT or SIGTERM in the middle of a run.
 */
describe('teardown', () => {
  const midRunArgs = ['run', '--strategy', 'redis,postgres', '--scenario', 'login-read,kill-node', '--users', '20', '--quiet'];

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s in the middle of a run stops every replica and store, then exits %d', async (signal, exitCode) => {
    const hactl = startHactl(midRunArgs.filter((arg) => arg !== '--quiet'));
    // Mid-run: the PostgreSQL store is up and a cluster is being built on it.
    await hactl.waitForStderr('postgres × login-read: starting cluster', 60_000);
    // hactl's children carry the marker too: the probe sees them, so an empty answer later means something.
    const children = (await markedProcesses(hactl.mark)).filter((pid) => pid !== hactl.child.pid);
    expect(children.length).toBeGreaterThanOrEqual(1);

    hactl.child.kill(signal);
    const finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(exitCode);
    expect(finished.stderr).toContain(`interrupted by ${signal}; everything hactl started has been stopped`);
    expect(finished.stderr).not.toMatch(STACK_LINE);
    expect(await markedProcesses(hactl.mark)).toEqual([]);
  }, 90_000);

  it('SIGINT while replicas are running leaves none of them', async () => {
    const hactl = startHactl(['run', '--strategy', 'none', '--scenario', 'kill-node', '--users', '200', '--reads', '50']);
    await hactl.waitForStderr('none × kill-node: starting cluster', 30_000);
    // Wait until the replicas answer: the run is then in the middle of its phases.
    let replicas: number[] = [];
    for (let i = 0; i < 100 && replicas.length < 3; i++) {
      replicas = (await markedProcesses(hactl.mark)).filter((pid) => pid !== hactl.child.pid);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(replicas).toHaveLength(3);
    hactl.child.kill('SIGINT');
    const finished = await hactl.finished;
    expect(finished.code).toBe(130);
    expect(await markedProcesses(hactl.mark)).toEqual([]);
  }, 90_000);

  it('a run that fails (balancer port taken) names what failed, exits 3 and stops the replicas it started', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const hactl = startHactl(['run', '--strategy', 'redis', '--scenario', 'login-read', '--port', String(port)]);
      const finished = await hactl.finished;
      expect(finished.code).toBe(3);
      expect(finished.stderr).toContain(`hactl: balancer could not listen on 127.0.0.1:${port}`);
      expect(finished.stderr).toContain('EADDRINUSE');
      expect(finished.stderr).not.toMatch(STACK_LINE);
      expect(await markedProcesses(hactl.mark)).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 60_000);
});
