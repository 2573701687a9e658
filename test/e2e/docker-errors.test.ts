import { describe, expect, inject, it } from 'vitest';
import { dockerLeftovers, runHactl, runIdOf, STACK_LINE } from './helpers.js';

const docker = inject('docker');

describe('docker runtime: what cannot be had', () => {
  it.each([
    [['run', '--runtime', 'docker', '--strategy', 'none']],
    [['down']],
  ])('an unreachable engine: one line naming DOCKER_HOST and how to fix it, exit 3 (%s)', async (args) => {
    const { code, stderr, stdout } = await runHactl(args, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(code).toBe(3);
    expect(stderr.trim().split('\n').filter((line) => !line.startsWith('hactl: run '))).toEqual([
      'hactl: cannot reach the Docker engine at unix:///nonexistent/docker.sock (ENOENT): start it (dockerd, or Docker Desktop) or set DOCKER_HOST to a running engine',
    ]);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stdout).toBe('');
  });

  it.skipIf(!docker.available)('a store image that cannot be had skips its rows with the image and the fix; the rest runs', async () => {
    // The fixture images, but a redis image that exists nowhere.
    const images = docker.imageFlags.flatMap((flag, i, all) => (flag === '--image' && !all[i + 1]!.startsWith('redis=') ? [flag, all[i + 1]!] : []));
    const { code, stdout, stderr } = await runHactl(
      ['run', '--runtime', 'docker', '--docker-network', 'host', ...images, '--image', 'redis=hactl-fixture/no-such-redis:0', '--strategy', 'none,redis', '--scenario', 'login-read', '--format', 'json', '--quiet'],
      {},
      120_000,
    );
    expect(code, stderr).toBe(0);
    const results = (JSON.parse(stdout) as { results: Array<{ strategy: string; status: string; reason?: string; fix?: string }> }).results;
    expect(results.find((r) => r.strategy === 'none')!.status).toBe('ok');
    const redis = results.find((r) => r.strategy === 'redis')!;
    expect(redis.status).toBe('skipped');
    expect(redis.reason).toMatch(/^image hactl-fixture\/no-such-redis:0 is not on the engine and could not be pulled \(.+\)$/);
    expect(redis.fix).toBe('pull or build it on the engine yourself, or name another image with --image redis=IMAGE');
  }, 150_000);

  it.skipIf(!docker.available)('an --app-image that cannot be had ends the run before anything starts, with exit 3, the image and the fix', async () => {
    const started = Date.now();
    const { code, stderr, stdout } = await runHactl(['run', '--runtime', 'docker', ...docker.imageFlags, '--app-image', 'hactl-test/no-such-app:0', '--strategy', 'none,redis', '--scenario', 'login-read'], {}, 60_000);
    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(
      /^hactl: --app-image hactl-test\/no-such-app:0 is not on the Docker engine and could not be pulled \([^\n]+\); build it there \(docker build -t hactl-test\/no-such-app:0 \.\), log in to its registry \(docker login\), or check the name$/m,
    );
    // Once, before any store, container or network: not on every row, and not after the store started.
    expect(stderr.match(/no-such-app/g)!.length).toBeLessThanOrEqual(3);
    expect(stderr).not.toMatch(/store ready|starting cluster/);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stdout).toBe('');
    expect(await dockerLeftovers(runIdOf(stderr))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 90_000);

  it.skipIf(!docker.available)('a demo app base image that cannot be had ends the run with exit 3, naming it', async () => {
    const { code, stderr } = await runHactl(['run', '--runtime', 'docker', '--image', 'node=hactl-fixture/no-such-node:0', '--strategy', 'none'], {}, 120_000);
    expect(code).toBe(3);
    expect(stderr).toMatch(
      /^hactl: the demo app's base image hactl-fixture\/no-such-node:0 is not on the engine and could not be pulled \(.+\); pull or build it on the engine yourself, or name another image with --image node=IMAGE$/m,
    );
    expect(stderr).not.toMatch(STACK_LINE);
  }, 150_000);
});
