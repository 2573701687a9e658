import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staleness } from './fresh-dist.js';

describe('staleness of dist/', () => {
  let root: string;
  const at = (seconds: number) => new Date(1_700_000_000_000 + seconds * 1000);
  async function file(relative: string, seconds: number) {
    const full = path.join(root, relative);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, '');
    await utimes(full, at(seconds), at(seconds));
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'hactl-fresh-dist-'));
    await file('tsconfig.json', 0);
    await file('package.json', 0);
    await file('scripts/bundle.mjs', 0);
    await file('src/run.ts', 5);
    await file('src/run.test.ts', 50);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('is none when every source is older than the build, test files aside', async () => {
    await file('dist/run.js', 10);
    await file('dist/bundle/balancer.mjs', 12);
    expect(staleness(root)).toBeUndefined();
  });

  it('names the newest source changed after the build began, and how many others', async () => {
    await file('dist/run.js', 10);
    await file('dist/bundle/balancer.mjs', 12);
    await file('src/balancer/proxy.ts', 11);
    await file('src/faults/tcp-proxy.ts', 20);
    expect(staleness(root)).toBe('src/faults/tcp-proxy.ts and 1 other source file(s) changed after dist/ was built');
  });

  it('says so when there is no build at all', () => {
    expect(staleness(root)).toBe('dist/ is missing');
  });
});
