import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dockerLeftovers, runHactl, runIdOf, startHactl, STACK_LINE } from './helpers.js';

const docker = inject('docker');

/**
 * Every container and network a docker run makes is gone after it: after a signal mid-run and
 * after a run that fails. What a SIGKILLed hactl leaves, its reaper removes; without one, the
 * next run says what is left and `hactl down` removes it.
 */
describe.skipIf(!docker.available)('docker runtime teardown', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-docker-teardown-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const run = ['run', '--runtime', 'docker', ...docker.imageFlags, '--strategy', 'redis', '--scenario', 'login-read,kill-node', '--users', '20'];

  /** Starts a run and waits until a scenario's users are sending requests to a running cluster. */
  async function midRun(env: NodeJS.ProcessEnv = {}, scenario = 'kill-node') {
    const hactl = startHactl([...run, '--reads', '200'], env);
    await hactl.waitForStderr(`redis × ${scenario}: starting cluster`, 90_000);
    const runId = runIdOf(hactl.stderr());
    const cluster = async () => (await dockerLeftovers(runId)).filter((name) => !name.endsWith('-reaper'));
    // The store, the network and three replicas up: the scenario is running (200 reads a user keep it going).
    for (let i = 0; i < 200 && (await cluster()).length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await cluster()).length).toBe(5);
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { hactl, runId };
  }

  /** What a SIGKILLed hactl could not remove itself: its run directory. */
  async function removeRunDirectory(runId: string) {
    const { readdir } = await import('node:fs/promises');
    for (const entry of await readdir(os.tmpdir())) if (entry.startsWith(`hactl-${runId}-`)) await rm(path.join(os.tmpdir(), entry), { recursive: true, force: true });
  }

  it("after hactl is SIGKILLed, the run's reaper removes every container and the network within seconds", async () => {
    const { hactl, runId } = await midRun({}, 'login-read');
    // The reaper is the run's own container, holding hactl's connection.
    expect(await dockerLeftovers(runId)).toContain(`container /hactl-${runId}-reaper`);
    hactl.child.kill('SIGKILL');
    await hactl.finished;
    const killedAt = Date.now();
    let left = await dockerLeftovers(runId);
    while (left.length > 0 && Date.now() - killedAt < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = await dockerLeftovers(runId);
    }
    expect(left, 'left 20 s after the kill').toEqual([]);
    console.log(`reaper removed run ${runId}'s containers and network ${Date.now() - killedAt} ms after hactl was SIGKILLed`);
    await removeRunDirectory(runId);
  }, 120_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s in the middle of a run removes every container and the network, then exits %d', async (signal, exitCode) => {
    const { hactl, runId } = await midRun();
    const signalledAt = Date.now();
    hactl.child.kill(signal);
    const finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(exitCode);
    // The orderly teardown did it, not the deadline's hard exit and the exit handler's reaping.
    expect(finished.stderr).toContain(`interrupted by ${signal}; everything hactl started has been stopped`);
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
    expect(finished.stderr).not.toMatch(STACK_LINE);
    expect(await dockerLeftovers(runId)).toEqual([]);
  }, 120_000);

  it('a run that fails mid-way removes everything and exits 3', async () => {
    const file = path.join(dir, 'waits-for-nothing.yaml');
    await writeFile(file, 'name: waits-for-nothing\ndescription: d\nphases:\n  - { name: login, do: login }\n  - { name: wait, do: read, until: fault-detected }\n');
    const finished = await runHactl(['run', '--runtime', 'docker', ...docker.imageFlags, '--strategy', 'redis', '--scenario', file, '--format', 'json']);
    expect(finished.code, finished.stderr).toBe(3);
    expect(await dockerLeftovers(runIdOf(finished.stderr))).toEqual([]);
  }, 120_000);

  it('without a reaper, a SIGKILLed run is named by the next start, and hactl down --run removes what it left', async () => {
    const { hactl, runId } = await midRun({ HACTL_REAPER: 'off' }, 'login-read');
    hactl.child.kill('SIGKILL');
    await hactl.finished;
    // Nothing in hactl ran after SIGKILL: its containers are still there.
    expect((await dockerLeftovers(runId)).length).toBeGreaterThan(0);
    // The next start (a check: the runtime's start without a scenario) says so, with the command.
    const check = await runHactl(['check', '--runtime', 'docker', ...docker.imageFlags, '--strategy', 'none']);
    expect(check.stderr).toMatch(new RegExp(`^hactl: the Docker engine still holds .*container hactl-${runId}-redis.* of run ${runId}, which is no longer running: hactl down --run ${runId} removes them$`, 'm'));
    const down = await runHactl(['down', '--run', runId]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(new RegExp(`^removed container hactl-${runId}-redis$`, 'm'));
    expect(down.stdout).toMatch(new RegExp(`^removed network hactl-${runId}$`, 'm'));
    expect(await dockerLeftovers(runId)).toEqual([]);
    expect((await runHactl(['down', '--run', runId])).stdout).toBe(`hactl down: nothing left by run ${runId} on ${process.env.DOCKER_HOST || 'unix:///var/run/docker.sock'}\n`);
    await removeRunDirectory(runId);
  }, 150_000);
});
