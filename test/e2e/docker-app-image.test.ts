import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { dockerLeftovers, runHactl, runIdOf, STACK_LINE } from './helpers.js';
import { expectKillNode, expectLoginRead, row } from './oracle.js';

const docker = inject('docker');
const USER_IMAGE = 'hactl-test/user-app:e2e';
/** A user's image that listens on 9000 whatever PORT says, and says so with EXPOSE. */
const PORT_IMAGE = 'hactl-test/user-app-9000:e2e';

/**
 * A user's image, as --app-image takes it: the demo app built into an image of its own, run with
 * the image's own command and told where to listen and where its store is only through PORT/HOST
 * and the templated --app-env.
 */
describe.skipIf(!docker.available)('hactl run --runtime docker --app-image', () => {
  beforeAll(async () => {
    const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
    const { demoAppImage } = await import('../../dist/runtime/docker/images.js');
    const { docker: engine } = await connectEngine(process.env);
    const nodeImage = docker.imageFlags[docker.imageFlags.indexOf('--image') + 1]!.replace(/^node=/, '');
    const built = await demoAppImage(engine, nodeImage, { progress: () => {} });
    const [repo, tag] = USER_IMAGE.split(':');
    await engine.getImage(built).tag({ repo: repo!, tag: tag! });
    // Built FROM the user image, so nothing is pulled; sh is in the fixture base.
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-app-image-'));
    await writeFile(path.join(dir, 'Dockerfile'), `FROM ${USER_IMAGE}\nEXPOSE 9000\nENTRYPOINT ["sh", "-c", "PORT=9000 exec node /opt/hactl/demo-app.mjs"]\nCMD []\n`);
    const stream = await engine.buildImage({ context: dir, src: ['Dockerfile'] }, { t: PORT_IMAGE, rm: true });
    await new Promise((resolve, reject) => engine.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve(undefined))));
    // The demo app's own profile, without containerPort: the image's EXPOSE decides.
    const demo = await readFile(new URL('../../fixtures/apps/demo.yaml', import.meta.url), 'utf8');
    await writeFile(path.join(dir, 'no-port.yaml'), demo.replace(/^containerPort: .*\n/m, ''));
    await writeFile(path.join(dir, 'port-8080.yaml'), demo);
  }, 180_000);
  let dir: string;

  afterAll(async () => {
    const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
    const { docker: engine } = await connectEngine(process.env);
    await engine.getImage(PORT_IMAGE).remove().catch(() => undefined);
    await engine.getImage(USER_IMAGE).remove().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The fixture images, but a Node base that exists nowhere: a run that needs the demo app image cannot have it. */
  const withoutNodeBase = () => [...docker.imageFlags.flatMap((flag, i, all) => (flag === '--image' && !all[i + 1]!.startsWith('node=') ? [flag, all[i + 1]!] : [])), '--image', 'node=hactl-fixture/no-such-node:0'];

  it("listens on the port the image EXPOSEs when the profile names none, and needs no demo app image (nor its Node base)", async () => {
    const { code, stdout, stderr } = await runHactl(
      ['run', '--runtime', 'docker', ...withoutNodeBase(), '--app-image', PORT_IMAGE, '--app-profile', path.join(dir, 'no-port.yaml'), '--strategy', 'none', '--scenario', 'login-read', '--format', 'json', '--seed', '5'],
      {},
      120_000,
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(row(report, 'none', 'login-read').status).toBe('ok');
    expectLoginRead(report, 'none');
    expect(stderr).not.toMatch(/building hactl\/demo-app/);
    // Only the reaper wanted the Node base; the run goes on without one, and says so.
    expect(stderr).toMatch(/^hactl: no reaper for this run: its image \(the Node base, hactl-fixture\/no-such-node:0\) cannot be had; if hactl is killed, hactl down --run [0-9a-f]{8} removes what it leaves$/m);
    expect(await dockerLeftovers(report.runId)).toEqual([]);
  }, 150_000);

  it('a containerPort the app does not listen on: the error names the port and path probed, and the port the image EXPOSEs', async () => {
    const { code, stdout, stderr } = await runHactl(
      ['run', '--runtime', 'docker', ...docker.imageFlags, '--app-image', PORT_IMAGE, '--app-profile', path.join(dir, 'port-8080.yaml'), '--strategy', 'none', '--scenario', 'login-read', '--startup-timeout', '3', '--format', 'json'],
      {},
      120_000,
    );
    expect(code, stderr).toBe(3);
    const report = JSON.parse(stdout) as Report;
    expect(report.results[0]!.status).toBe('error');
    expect(report.results[0]!.reason).toMatch(
      /replica-1 container hactl-[0-9a-f]{8}-replica-1 was not ready within 3000 ms; its health path last did not answer \(.*\) \(GET \/health on port 8080 in the container, 127\.0\.0\.1:\d+ from hactl\); the image EXPOSEs 9000: set containerPort in the app profile to the port the app listens on, or have the app listen on \$PORT/,
    );
    expect(stderr).not.toMatch(STACK_LINE);
    expect(await dockerLeftovers(runIdOf(stderr))).toEqual([]);
  }, 150_000);

  async function run(args: string[]): Promise<Report> {
    const { code, stdout, stderr } = await runHactl(['run', '--runtime', 'docker', ...docker.imageFlags, '--app-image', USER_IMAGE, '--scenario', 'login-read,kill-node', '--format', 'json', '--quiet', '--seed', '5', ...args]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(await dockerLeftovers(report.runId)).toEqual([]);
    expect(report.settings.app).toMatchObject({ image: USER_IMAGE });
    return report;
  }

  it('per-replica memory behind sticky sessions: DESIGN.md figures', async () => {
    const report = await run(['--strategy', 'none,sticky', '--app-env', 'HACTL_SESSION_STORE=memory']);
    for (const strategy of ['none', 'sticky']) {
      expectLoginRead(report, strategy);
      expectKillNode(report, strategy);
    }
  }, 180_000);

  it('sessions in Redis, at the address filled into --app-env: DESIGN.md figures', async () => {
    const report = await run(['--strategy', 'redis', '--app-env', 'HACTL_SESSION_STORE=redis', '--app-env', 'HACTL_STORE_URL={redisUrl}']);
    expect(row(report, 'redis', 'login-read').store).toMatch(/in container/);
    expectLoginRead(report, 'redis');
    expectKillNode(report, 'redis');
  }, 180_000);
});
