import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { dockerLeftovers, startHactl, type Finished, type Started } from './helpers.js';
import { expectCookieSwap, expectKillNode, expectLoginRead, row } from './oracle.js';

const docker = inject('docker');
const STRATEGIES = ['none', 'sticky', 'redis', 'postgres'];
const SEED = '20261125';

/**
 * `--runtime docker` gives the same report, with the same meaning, as `--runtime local`: the
 * same seed on both, DESIGN.md's figures on the docker report, and agreement row by row.
 * Host networking, as CI here has no bridge between containers and the host by default.
 */
describe.skipIf(!docker.available)('hactl run --runtime docker --docker-network host, against --runtime local', () => {
  let dir: string;
  let local: Report;
  let containers: Report;
  let hactl: Started;
  let finished: Finished;

  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-docker-e2e-'));
    const common = ['run', '--strategy', STRATEGIES.join(','), '--scenario', 'login-read,kill-node,cookie-swap', '--seed', SEED, '--format', 'json', '--quiet'];
    const localRun = await startHactl([...common, '--out', path.join(dir, 'local.json')]).finished;
    expect(localRun.code, localRun.stderr).toBe(0);
    local = JSON.parse(await readFile(path.join(dir, 'local.json'), 'utf8')) as Report;

    hactl = startHactl([...common, '--runtime', 'docker', '--docker-network', 'host', ...docker.imageFlags, '--out', path.join(dir, 'docker.json')]);
    finished = await hactl.finished;
    containers = JSON.parse(await readFile(path.join(dir, 'docker.json'), 'utf8')) as Report;
  });

  it('exits 0 and leaves no container, network or process behind', async () => {
    expect(finished.code, finished.stderr).toBe(0);
    expect(containers.settings.runtime).toBe('docker');
    expect(row(containers, 'redis', 'login-read').store).toMatch(/^hactl-fixture\/redis:7-[0-9a-f]{16} in container hactl-[0-9a-f]{8}-redis \(host network/);
    expect(await dockerLeftovers(containers.runId)).toEqual([]);
    expect(await hactl.leftovers()).toEqual([]);
  });

  it.each(STRATEGIES)('login-read, %s: DESIGN.md figures', (strategy) => expectLoginRead(containers, strategy));
  it.each(STRATEGIES)('kill-node, %s: DESIGN.md figures', (strategy) => expectKillNode(containers, strategy));
  it.each(STRATEGIES)('cookie-swap, %s: DESIGN.md figures', (strategy) => expectCookieSwap(containers, strategy));

  it.each(STRATEGIES.flatMap((strategy) => ['login-read', 'kill-node'].map((scenario) => [strategy, scenario])))(
    '%s × %s: hit rate and session loss agree with the local runtime',
    (strategy, scenario) => {
      const a = row(local, strategy, scenario).metrics!;
      const b = row(containers, strategy, scenario).metrics!;
      if (strategy === 'none' || (strategy === 'sticky' && scenario === 'kill-node')) {
        // Round robin over the same seeded order: the same share, give or take what concurrency reorders.
        expect(Math.abs(a.hitRate! - b.hitRate!)).toBeLessThanOrEqual(0.1);
        if (scenario === 'kill-node') expect(Math.abs(a.sessionLoss! - b.sessionLoss!)).toBeLessThanOrEqual(0.15);
      } else {
        expect(b.hitRate).toBe(a.hitRate);
        expect(b.sessionLoss).toBe(a.sessionLoss);
      }
    },
  );
});
