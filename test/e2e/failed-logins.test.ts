import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { runHactl } from './helpers.js';
import { expectLoginRead } from './oracle.js';

/**
 * A form-login app of the repository's own (fixtures/apps/form-login.mjs): its login answers 302
 * with the session cookie SID, or with --csrf refuses every login with 403, as a framework's CSRF
 * protection refuses a form posted without its token.
 */
const PROFILE = fileURLToPath(new URL('../../fixtures/apps/form-login.yaml', import.meta.url));
const APP = fileURLToPath(new URL('../../fixtures/apps/form-login.mjs', import.meta.url));
const command = (flags = '') => `"${process.execPath}" "${APP}" {port} '{redisUrl}' ${flags}`;

async function run(name: string, args: string[]) {
  const out = path.join(os.tmpdir(), `hactl-${name}-${process.pid}.json`);
  const junit = path.join(os.tmpdir(), `hactl-${name}-${process.pid}.xml`);
  try {
    const finished = await runHactl(['run', '--app-profile', PROFILE, '--scenario', 'login-read', '--seed', '13', '--format', 'json', '--out', out, '--junit', junit, ...args]);
    const report = finished.code === 0 || finished.code === 3 ? (JSON.parse(await readFile(out, 'utf8')) as Report) : undefined;
    return { ...finished, report, out, junit: await readFile(junit, 'utf8').catch(() => '') };
  } finally {
    await rm(junit, { force: true });
  }
}

describe('failed logins', () => {
  it('a login answered 403 is a failed login, said with its status and body, never a 0% hit rate', async () => {
    // Without the pre-flight, which would stop the run at its login step: each row must say so itself.
    const result = await run('csrf', ['--app-cmd', command('--csrf'), '--strategy', 'none,sticky', '--users', '10', '--no-preflight']);
    try {
      expect(result.code, result.stderr).toBe(3);
      for (const row of result.report!.results) {
        expect(row).toMatchObject({ status: 'error', reason: '10/10 logins failed: no session strategy was measured' });
        expect(row.metrics).toMatchObject({ logins: 10, failedLogins: 10, hitRate: null, missRate: null, reads: 0 });
        expect(row.warnings).toEqual([
          {
            id: 'failed-logins',
            invalid: true,
            message: expect.stringMatching(/^10\/10 logins failed \(first: answered 403: "<h1>403 Forbidden<\/h1><p>Invalid CSRF token: .*"\): most users never had a session/),
          },
        ]);
      }
      // The progress lines, the table, JUnit and Markdown all say so; none shows a hit rate.
      expect(result.stderr).not.toMatch(/hit 0\.0%/);
      expect(result.stderr).toContain('hactl: sticky × login-read: invalid: 10/10 logins failed (first: answered 403');
      expect(result.junit).toMatch(/<failure message="none × login-read: invalid: 10\/10 logins failed \(first: answered 403/);
      const markdown = await runHactl(['report', result.out, '--format', 'markdown']);
      expect(markdown.code, markdown.stderr).toBe(0);
      expect(markdown.stdout).toContain('| sticky | invalid |');
      expect(markdown.stdout).toContain('| sticky | login-read | error ⚠ |');
      expect(markdown.stdout).toContain('- sticky × login-read: invalid: 10/10 logins failed (first: answered 403');
      expect(markdown.stdout).not.toMatch(/\b0(\.0)?%/);
    } finally {
      await rm(result.out, { force: true });
    }
  }, 90_000);

  it('a login answered 302 with the session cookie is a login: sessions read as usual', async () => {
    const samples = path.join(os.tmpdir(), `hactl-redirect-${process.pid}.ndjson`);
    const result = await run('redirect', ['--app-cmd', command(), '--strategy', 'none,sticky,redis', '--users', '30', '--samples', samples]);
    try {
      expect(result.code, result.stderr).toBe(0);
      const report = result.report!;
      for (const strategy of ['none', 'sticky', 'redis']) {
        expectLoginRead(report, strategy);
        const row = report.results.find((candidate) => candidate.strategy === strategy)!;
        expect(row.metrics).toMatchObject({ logins: 30, failedLogins: 0 });
        expect(row.warnings).toBeUndefined();
      }
      // The 302 itself was the login's answer: the driver follows no redirect (to /me, a read).
      const logins = (await readFile(samples, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { kind: string; status: number }).filter((sample) => sample.kind === 'login');
      expect(logins).toHaveLength(90);
      expect(new Set(logins.map((sample) => sample.status))).toEqual(new Set([302]));
    } finally {
      await rm(result.out, { force: true });
      await rm(samples, { force: true });
    }
  }, 90_000);
});
