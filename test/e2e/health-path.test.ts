import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { startHactl } from './helpers.js';
import { expectKillNode } from './oracle.js';

/**
 * An app whose health path is not the demo app's: fixtures/apps/pyapp (Python, cookie MYSID,
 * health at /healthz only, a 303 login). A balancer that probed /health would find every
 * replica unhealthy from the start, fail open, and never take the killed one out: sticky would
 * read 100% hits and detection 0 ms.
 */
const PROFILE = 'fixtures/apps/pyapp.yaml';
const command = (extra = '') => `python3 fixtures/apps/pyapp/server.py {port}${extra}`;

async function runJson(args: string[]): Promise<{ code: number | null; stderr: string; report: Report }> {
  const out = path.join(os.tmpdir(), `hactl-health-path-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const hactl = startHactl(['run', '--app-profile', PROFILE, '--seed', '13', '--quiet', '--format', 'json', '--out', out, ...args], { PATH: `${process.env.PATH}:/usr/sbin` });
  const { code, stderr } = await hactl.finished;
  const report = JSON.parse(await readFile(out, 'utf8')) as Report;
  await rm(out, { force: true });
  return { code, stderr, report };
}

describe("the balancer's health checks follow the app profile's health path", () => {
  for (const balancer of ['hactl', 'haproxy']) {
    it(`kill-node behind ${balancer} gives DESIGN.md's figures for an app healthy only at /healthz`, async () => {
      const { code, stderr, report } = await runJson(['--app-cmd', command(), '--balancer', balancer, '--strategy', 'none,sticky', '--scenario', 'kill-node', '--users', '30']);
      expect(code, stderr).toBe(0);
      expect(report.settings.balancer).toMatchObject({ kind: balancer, healthCheck: { path: '/healthz', matcher: '200-299' } });
      expectKillNode(report, 'none');
      expectKillNode(report, 'sticky');
    }, 120_000);
  }

  it('marks a row whose balancer failed open from the start, with the path probed and what it got, and flags its failover figures', async () => {
    // /healthz answers 2xx, but slower than the fast profile's 150 ms check timeout: replicas
    // start (readiness waits a second), then fail every balancer check.
    // Without the pre-flight, whose health step would stop the run first: the row must say it itself.
    const { stderr, report } = await runJson(['--app-cmd', command(' --health-delay-ms 400'), '--strategy', 'sticky', '--scenario', 'kill-node', '--users', '10', '--no-preflight']);
    const row = report.results[0]!;
    expect(row.status, stderr).toBe('ok');
    const failOpen = row.warnings?.find((warning) => warning.id === 'fail-open');
    expect(failOpen, JSON.stringify(row.warnings)).toMatchObject({ invalid: true });
    expect(failOpen!.message).toMatch(/every replica failed the balancer's health check at start \(GET \/healthz: .*timeout.*\).*200-299 within the check's timeout of 150 ms/);
    const suspect = row.warnings?.find((warning) => warning.id === 'suspect-detection');
    expect(suspect?.message).toMatch(/replica-1 was reported out of rotation 0 ms after the kill/);
  }, 120_000);
});
