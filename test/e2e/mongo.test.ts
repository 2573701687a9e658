import { execFileSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { runHactl } from './helpers.js';

function mongodOnPath(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v mongod'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mongoAvailable = Boolean(process.env.HACTL_MONGO_URL) || mongodOnPath();
if (!mongoAvailable) {
  // MongoDB cannot be installed on every machine (no Debian package); say why these tests skip.
  console.warn('mongo e2e tests skipped: no mongod on PATH and HACTL_MONGO_URL is not set');
}

describe('mongo strategy', () => {
  it.skipIf(!mongoAvailable)('login-read and kill-node against a real MongoDB: hit rate 1, no session lost', async () => {
    const { code, stdout, stderr } = await runHactl(['run', '--strategy', 'mongo', '--scenario', 'login-read,kill-node', '--format', 'json', '--quiet']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { results: Array<{ scenario: string; status: string; metrics: { hitRate: number; sessionLoss: number | null } }> };
    for (const row of report.results) expect(row.status).toBe('ok');
    expect(report.results.find((row) => row.scenario === 'login-read')!.metrics.hitRate).toBe(1);
    expect(report.results.find((row) => row.scenario === 'kill-node')!.metrics.sessionLoss).toBe(0);
  }, 120_000);

  it.skipIf(mongoAvailable)('without MongoDB, its rows are skipped with the reason and the fix', async () => {
    const { code, stdout } = await runHactl(['run', '--strategy', 'mongo', '--scenario', 'login-read', '--format', 'json', '--quiet'], { HACTL_MONGO_URL: '' });
    expect(code).toBe(0);
    const [row] = (JSON.parse(stdout) as { results: Array<{ status: string; reason: string; fix: string }> }).results;
    expect(row).toMatchObject({ status: 'skipped', reason: 'no mongod on PATH and HACTL_MONGO_URL is not set' });
    expect(row!.fix).toContain('HACTL_MONGO_URL=mongodb://');
  }, 60_000);
});

const docker = inject('docker');
const mongoImage = process.env.HACTL_IMAGE_MONGO ?? 'mongo:7';
const mongoImagePresent = docker.available && (await imageExists(mongoImage));
if (docker.available && !mongoImagePresent) console.warn(`docker mongo e2e test skipped: no ${mongoImage} image on the engine (set HACTL_IMAGE_MONGO to use another)`);

async function imageExists(image: string): Promise<boolean> {
  const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
  const { docker: engine } = await connectEngine(process.env);
  return engine.getImage(image).inspect().then(() => true, () => false);
}

describe('mongo strategy on docker', () => {
  it.skipIf(!mongoImagePresent)('login-read and kill-node in containers: hit rate 1, no session lost', async () => {
    const { code, stdout, stderr } = await runHactl(
      ['run', '--runtime', 'docker', ...docker.imageFlags, '--image', `mongo=${mongoImage}`, '--strategy', 'mongo', '--scenario', 'login-read,kill-node', '--format', 'json', '--quiet'],
      {},
      170_000,
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { results: Array<{ scenario: string; status: string; metrics: { hitRate: number; sessionLoss: number | null } }> };
    expect(report.results.find((row) => row.scenario === 'login-read')!.metrics.hitRate).toBe(1);
    expect(report.results.find((row) => row.scenario === 'kill-node')!.metrics.sessionLoss).toBe(0);
  }, 180_000);
});
