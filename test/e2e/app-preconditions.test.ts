import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { runHactl } from './helpers.js';

/**
 * What must hold before any figure is taken, against apps of the repository's own that are not
 * the demo app: one that never becomes healthy, one that keeps sessions only in memory while
 * the run asks for Redis, one whose login wants a CSRF token. Each must be reported as what it
 * is, quickly, never as a plausible row.
 */
const PY_PROFILE = 'fixtures/apps/pyapp.yaml';
const py = (extra = '') => `python3 fixtures/apps/pyapp/server.py {port}${extra}`;
const FORM_PROFILE = fileURLToPath(new URL('../../fixtures/apps/form-login.yaml', import.meta.url));
const FORM_APP = fileURLToPath(new URL('../../fixtures/apps/form-login.mjs', import.meta.url));
const PHP_PROFILE = 'fixtures/apps/php.yaml';
const PHP = 'sh fixtures/apps/php/launch.sh {port} {replica} {redisHost} {redisPort}';

async function runJson(args: string[]): Promise<{ code: number | null; stderr: string; report: Report; ms: number }> {
  const out = path.join(os.tmpdir(), `hactl-preconditions-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const started = Date.now();
  const { code, stderr } = await runHactl(['run', '--seed', '5', '--format', 'json', '--out', out, ...args]);
  const ms = Date.now() - started;
  const report = JSON.parse(await readFile(out, 'utf8')) as Report;
  await rm(out, { force: true });
  return { code, stderr, report, ms };
}

describe('an app that never answers its health path with 2xx', () => {
  it('stops the run after the first row, within --startup-timeout + 5 s, naming what the health path answered', async () => {
    for (const preflight of [[], ['--no-preflight']]) {
      const { code, stderr, report, ms } = await runJson([
        '--app-profile', PY_PROFILE, '--app-cmd', py(' --health-status 503'), '--startup-timeout', '3', '--strategy', 'none,sticky,redis', '--scenario', 'login-read,kill-node', ...preflight,
      ]);
      expect(code, stderr).toBe(3);
      expect(ms).toBeLessThan(3_000 + 5_000);
      const [first, ...rest] = report.results;
      expect(first!.status).toBe('error');
      expect(first!.reason).toMatch(/was not ready within 3000 ms; its health path last answered 503 "\{\\"up\\": false\}"/);
      // Nothing about the strategy: every later row is left unrun, saying why (the pre-flight's
      // failure is the error of each of its strategy's rows).
      for (const row of rest) {
        if (preflight.length === 0 && row.strategy === 'none') expect(row).toMatchObject({ status: 'error', reason: first!.reason });
        else expect(row).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^not run: /) });
      }
      expect(report.results.filter((row) => row.metrics !== undefined)).toEqual([]);
    }
  }, 60_000);
});

describe('a store strategy whose app does not use the store', () => {
  it('is an error row naming the missing wiring, not a row of per-replica figures under the store\'s name', async () => {
    const { code, stderr, report } = await runJson(['--app-profile', PY_PROFILE, '--app-cmd', py(), '--strategy', 'sticky,redis,postgres', '--scenario', 'login-read,kill-node', '--users', '10', '--quiet']);
    expect(code, stderr).toBe(3);
    expect(report.results.filter((row) => row.strategy === 'sticky').map((row) => row.status)).toEqual(['ok', 'ok']);
    for (const [store, field] of [['redis', 'redisUrl'], ['postgres', 'postgresUrl']]) {
      const [first, second] = report.results.filter((row) => row.strategy === store);
      expect(first).toMatchObject({ status: 'error', reason: expect.stringMatching(new RegExp(`^the app wrote no session to ${store} \\(it held \\d+ entries before 10 answered logins and \\d+ after\\): is it wired to \\{${field}\\}\\?`)) });
      expect(first!.metrics).toBeUndefined();
      expect(second).toMatchObject({ status: 'skipped', reason: expect.stringContaining(`the app wrote no session to ${store}`) });
    }
  }, 90_000);
});

describe('a hit predicate that cannot hold for the app', () => {
  it('makes the row invalid, with the statuses the reads got, never a measured 0% hit rate', async () => {
    // Without the pre-flight, whose read step would stop the run first: the row must say it itself.
    const { code, stderr, report } = await runJson(['--app-profile', 'fixtures/apps/pyapp-broken.yaml', '--app-cmd', py(), '--strategy', 'sticky', '--scenario', 'login-read', '--no-preflight']);
    expect(code, stderr).toBe(3);
    const row = report.results[0]!;
    expect(row.warnings).toEqual([
      { id: 'no-hits', invalid: true, message: expect.stringMatching(/^no read of the 300 answered satisfied the profile's hit predicate \(statuses: 200 ×300\)/) },
    ]);
    expect(stderr).toContain('sticky × login-read: invalid');
    expect(stderr).not.toMatch(/hit 0\.0%/);
  }, 60_000);
});

describe('the pre-flight of hactl run', () => {
  it('stops at a login answered 403, with the status, the body and the likely cause, before any row runs', async () => {
    const { code, stderr, report, ms } = await runJson(['--app-profile', FORM_PROFILE, '--app-cmd', `"${process.execPath}" "${FORM_APP}" {port} '{redisUrl}' --csrf`, '--strategy', 'none,sticky']);
    expect(code, stderr).toBe(3);
    expect(ms).toBeLessThan(15_000);
    expect(stderr).toMatch(/none: pre-flight login: FAILED: POST \/\S+ answered 403 .*CSRF/);
    expect(report.results.filter((row) => row.strategy === 'none').every((row) => row.status === 'error' && /^pre-flight login: /.test(row.reason!))).toBe(true);
    expect(report.results.filter((row) => row.strategy === 'sticky').every((row) => row.status === 'skipped' && /pre-flight on none failed at its login step/.test(row.reason!))).toBe(true);
  }, 60_000);
});

describe('hactl check', () => {
  it('prints each step for the demo app and exits 0', async () => {
    const { code, stdout, stderr } = await runHactl(['check', '--strategy', 'none,redis']);
    expect(code, stderr).toBe(0);
    for (const step of ['start', 'health', 'login', 'read']) expect(stdout).toMatch(new RegExp(`^none +${step} +ok `, 'm'));
    expect(stdout).toMatch(/^redis +store +ok +the app wrote its session to redis \(0 entries before the login, 1 after\)$/m);
    expect(stdout).toMatch(/^redis +health +ok +GET \/health answered 200/m);
  }, 60_000);

  it('prints each step for the PHP example app and exits 0, skipping what its profile cannot keep', async () => {
    const { code, stdout, stderr } = await runHactl(['check', '--app-profile', PHP_PROFILE, '--app-cmd', PHP, '--strategy', 'sticky,redis,postgres']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^sticky +login +ok +POST \/login answered 200 .*, set PHPSESSID$/m);
    expect(stdout).toMatch(/^redis +store +ok /m);
    expect(stdout).toMatch(/^postgres +skipped: the app profile "php" keeps sessions with none, sticky, redis only/m);
  }, 60_000);

  it('exits 1 on a broken profile, naming the failing step and what was seen', async () => {
    // The read's hit predicate looks for a field the app never returns.
    const { code, stdout, stderr } = await runHactl(['check', '--app-profile', 'fixtures/apps/pyapp-broken.yaml', '--app-cmd', py(), '--strategy', 'none,redis']);
    expect(code, stderr).toBe(1);
    expect(stdout).toMatch(/^none +read +FAIL +GET \/api\/me answered 200 "\{\\"account\\": .*: the profile's hit predicate does not hold/m);
    expect(stdout).toMatch(/^none +read +fix +/m);
    expect(stdout).toMatch(/^redis +read +FAIL/m);
  }, 60_000);
});
