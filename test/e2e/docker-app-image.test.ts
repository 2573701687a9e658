import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { dockerLeftovers, runHactl } from './helpers.js';
import { expectKillNode, expectLoginRead, row } from './oracle.js';

const docker = inject('docker');
const USER_IMAGE = 'hactl-test/user-app:e2e';

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
  }, 180_000);

  afterAll(async () => {
    const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
    const { docker: engine } = await connectEngine(process.env);
    await engine.getImage(USER_IMAGE).remove().catch(() => undefined);
  });

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
