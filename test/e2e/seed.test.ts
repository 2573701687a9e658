import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/driver/records.js';
import { runHactl } from './helpers.js';

/** --seed: the same seed makes the same users and the same request order, hence the same routing. */
describe('hactl run --seed', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-seed-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function samples(seed: number, name: string): Promise<Array<Sample & { strategy: string }>> {
    const file = path.join(dir, `${name}.ndjson`);
    // One request at a time: the balancer then sees requests in exactly the order they were sent.
    const args = ['run', '--strategy', 'none', '--scenario', 'login-read', '--users', '12', '--reads', '6', '--concurrency', '1', '--seed', String(seed), '--samples', file, '--quiet'];
    const { code, stderr } = await runHactl(args);
    expect(code, stderr).toBe(0);
    return (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  }

  it('repeats users, order, replicas and outcomes exactly; another seed does not', async () => {
    const first = await samples(7, 'a');
    const again = await samples(7, 'b');
    const other = await samples(8, 'c');
    const trace = (list: Sample[]) => list.map((s) => `${s.phase}:${s.user}:${s.replica}:${s.outcome}`);
    expect(first).toHaveLength(12 + 12 * 6);
    expect(trace(again)).toEqual(trace(first));
    expect(trace(other)).not.toEqual(trace(first));
    expect(first[0]).toMatchObject({ strategy: 'none', scenario: 'login-read', phase: 'login', kind: 'login', status: 200, outcome: 'ok' });
    expect(first.every((s) => s.replica?.startsWith('replica-'))).toBe(true);
  }, 60_000);
});
