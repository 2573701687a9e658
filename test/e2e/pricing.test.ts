import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHactl, STACK_LINE, type Finished, type Started } from './helpers.js';

const SOURCE = 'https://github.com/znxkznxk1030/session-persisting-in-HA-on-aws';

/**
 * The must-hold command: the bundled Seoul t3.medium file, named without a path, prices
 * all five strategies from one class in the Markdown comparison. One short scenario keeps it
 * quick: the cost column does not depend on the figures, only on the strategies and replicas.
 */
describe('hactl run --pricing aws-ap-northeast-2-t3-medium --format markdown', () => {
  let hactl: Started;
  let finished: Finished;
  beforeAll(async () => {
    hactl = startHactl(['run', '--strategy', 'all', '--scenario', 'login-read', '--users', '6', '--reads', '3', '--pricing', 'aws-ap-northeast-2-t3-medium', '--format', 'markdown']);
    finished = await hactl.finished;
  });

  it('prices every one of the five strategies, from one class, and cites the write-up', async () => {
    // mongo's row is skipped here (no mongod), and is priced all the same: its cost is DocumentDB's.
    // A row that failed on an overloaded machine (exit 3) changes no cost: the column depends on the strategies and replicas alone.
    expect([0, 3], finished.stderr).toContain(finished.code);
    const comparison = finished.stdout.split('### Comparison')[1]!.split('### Results by scenario')[0]!;
    const header = comparison.split('\n').find((line) => line.startsWith('| strategy |'))!;
    expect(header.endsWith('| cost per month, USD |')).toBe(true);
    const cost = (strategy: string) => comparison.split('\n').find((line) => line.startsWith(`| ${strategy} |`))!.split('|').at(-2)!.trim();
    // 730 h × (3 × 0.052 + the store): none and sticky 113.88; redis + 0.099; postgres + 0.104; mongo + 0.119.
    expect(['none', 'sticky', 'redis', 'postgres', 'mongo'].map(cost)).toEqual(['113.88', '113.88', '186.15', '189.80', '200.75']);
    expect(comparison).toContain(`Prices: How to Persist Sessions in a High Availability Environment on AWS (README, price table), ap-northeast-2, class t3.medium, undated (${SOURCE})`);
    for (const instance of ['app t3.medium (EC2) at 0.052 USD/h', 'redis cache.t3.medium (ElastiCache for Redis) at 0.099 USD/h', 'postgres db.t3.medium', 'mongo db.t3.medium (DocumentDB) at 0.119 USD/h']) {
      expect(comparison).toContain(instance);
    }
    expect(await hactl.leftovers()).toEqual([]);
  });
});

/** A pricing file that compares unlike machines is refused before anything starts: one line, the file and the field, exit 2. */
describe('a pricing file with an instance of another class', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-pricing-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is refused at load, naming the file and the field', async () => {
    const file = path.join(dir, 'mixed.yaml');
    await writeFile(
      file,
      [
        'region: us-east-1',
        'currency: USD',
        'class: t3.medium',
        'source: { title: Test, url: "https://example.com/p", retrieved: 2026-02-03 }',
        'instances:',
        '  app: { type: m7g.large, hourly: 0.0816, source: "https://example.com/p" }',
        '  redis: { type: cache.t3.medium, hourly: 0.068, source: "https://example.com/p" }',
      ].join('\n'),
    );
    const hactl = startHactl(['run', '--strategy', 'none', '--scenario', 'login-read', '--pricing', file]);
    const { code, stdout, stderr } = await hactl.finished;
    expect(code, stderr).toBe(2);
    expect(stderr.trim()).toBe(`hactl: ${file}: instances.app.type: m7g.large is not of the file's class t3.medium; expected t3.medium, cache.t3.medium or db.t3.medium`);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stdout).toBe('');
    expect(await hactl.leftovers()).toEqual([]);
  });

  it('a bundled name that does not exist is refused the same way, listing the names there are', async () => {
    const { code, stderr } = await startHactl(['run', '--strategy', 'none', '--pricing', 'aws-mars-1']).finished;
    expect(code, stderr).toBe(2);
    expect(stderr.trim()).toBe('hactl: --pricing: no bundled pricing file is named "aws-mars-1"; expected one of aws-ap-northeast-2-t3-medium, aws-us-east-1, or the path of a YAML file');
  });
});
