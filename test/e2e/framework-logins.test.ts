import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { runHactl } from './helpers.js';
import { expectLoginRead } from './oracle.js';

/**
 * Framework form logins against an app of the repository's own (fixtures/apps/form-login.mjs
 * --shape): a login page that hands out a CSRF token, a login POST that wants it back and answers
 * 302, through the example profiles' login steps (fixtures/apps/django.yaml, rails.yaml,
 * spring-security.yaml). Each shape makes a new token at login, as its framework does, and refuses
 * a POST after login with the old one: the profiles capture the new token in the login's last step.
 */
const APP = fileURLToPath(new URL('../../fixtures/apps/form-login.mjs', import.meta.url));
const profile = (name: string) => fileURLToPath(new URL(`../../fixtures/apps/${name}.yaml`, import.meta.url));
const command = (flags: string) => `"${process.execPath}" "${APP}" {port} '{redisUrl}' ${flags}`;

async function run(name: string, args: string[]) {
  const out = path.join(os.tmpdir(), `hactl-${name}-${process.pid}.json`);
  const junit = path.join(os.tmpdir(), `hactl-${name}-${process.pid}.xml`);
  const samples = path.join(os.tmpdir(), `hactl-${name}-${process.pid}.ndjson`);
  try {
    const finished = await runHactl(['run', '--seed', '13', '--format', 'json', '--out', out, '--junit', junit, '--samples', samples, ...args]);
    const report = JSON.parse(await readFile(out, 'utf8')) as Report;
    const markdown = await runHactl(['report', out, '--format', 'markdown']);
    const table = await runHactl(['report', out, '--format', 'table']);
    const html = await runHactl(['report', out, '--format', 'html']);
    const lines = (await readFile(samples, 'utf8')).trim().split('\n');
    return {
      ...finished,
      report,
      markdown: markdown.stdout,
      table: table.stdout,
      html: html.stdout,
      junit: await readFile(junit, 'utf8'),
      samples: lines.map((line) => JSON.parse(line) as { scenario: string; kind: string; status: number; user: number }),
    };
  } finally {
    await Promise.all([out, junit, samples].map((file) => rm(file, { force: true })));
  }
}

describe('framework form logins (login steps and captures)', () => {
  it("logs in through a CSRF token from the login page and a 302: login-read reads 100% under sticky, about 1/3 under none", async () => {
    const result = await run('django-login', ['--app-profile', profile('django'), '--app-cmd', command('--shape django'), '--scenario', 'login-read', '--strategy', 'none,sticky', '--users', '30']);
    expect(result.code, result.stderr).toBe(0);
    for (const strategy of ['none', 'sticky']) {
      expectLoginRead(result.report, strategy);
      const row = result.report.results.find((candidate) => candidate.strategy === strategy)!;
      expect(row.metrics).toMatchObject({ logins: 30, failedLogins: 0 });
      // Each login was the page's GET, answered 200, and the form's POST, answered 302.
      const logins = result.samples.filter((sample) => sample.kind === 'login' && row.scenario === sample.scenario);
      expect(logins.length).toBe(2 * 30 * 2);
      expect(logins.filter((sample) => sample.status === 200)).toHaveLength(60);
      expect(logins.filter((sample) => sample.status === 302)).toHaveLength(60);
    }
    // The pre-flight said what each step sent and got.
    expect(result.stderr).toContain('pre-flight login: ok: GET /accounts/login/ answered 200, then POST /accounts/login/ answered 302, set sessionid');
  }, 60_000);

  it('runs security on an app whose profile has no logout and whose login keeps the session id: fixation fails, the logout check is n/a with its reason', async () => {
    const result = await run('django-security', ['--app-profile', profile('django'), '--app-cmd', command('--shape django --keep-id'), '--scenario', 'security', '--strategy', 'sticky', '--users', '5', '--replicas', '2', '--id-sample', '30', '--fail-on-findings']);
    // A failed finding with --fail-on-findings fails the run, as for any app.
    expect(result.code, result.stderr).toBe(1);
    const row = result.report.results[0]!;
    expect(row).toMatchObject({ strategy: 'sticky', scenario: 'security', status: 'ok' });
    const finding = (id: string) => row.findings!.find((candidate) => candidate.id === id);
    expect(finding('session-fixation')).toMatchObject({ passed: false, summary: expect.stringMatching(/^the id stayed the same, now holding the victim's session, in 5\/\d+ logins/) });
    expect(finding('logout-invalidates')).toEqual({ id: 'logout-invalidates', title: 'logout ends the session on every replica', passed: null, summary: 'logout: the profile has no logout request', evidence: { missingRequest: 'logout' } });
    // The checks that need only login and read ran.
    expect(finding('cookie-httponly')).toMatchObject({ passed: true });
    expect(finding('session-id-quality')).toMatchObject({ summary: expect.stringMatching(/^30 ids from 30 logins, length 32, hex: .* 0 duplicates/) });
    expect(result.stderr).toContain('--fail-on-findings: 2 failed findings fail the run (sticky × security: forged-id-adopted, sticky × security: session-fixation)');
    // n/a, with the reason, in the table, Markdown, HTML and JUnit.
    // (Loose between title and verdict: the findings rows may gain a column, the scenario's.)
    expect(result.html).toMatch(/logout ends the session on every replica<\/td>(?:<td>[^<]*<\/td>)?<td class="verdict na">n\/a<\/td><td>logout: the profile has no logout request<\/td>/);
    expect(result.table).toMatch(/│ sticky +│.*logout ends the session on every replica +│(?: [\w-]+ +│)? n\/a +│ logout: the profile has no logout request +│/);
    expect(result.markdown).toMatch(/\| sticky \|.*logout ends the session on every replica \|(?: [\w-]+ \|)? n\/a \| logout: the profile has no logout request \|/);
    expect(result.junit).toMatch(/<testcase [^>]*name="security: finding logout-invalidates"[^>]*>\s*<skipped message="logout: the profile has no logout request"/);
    expect(result.junit).toMatch(/<testcase [^>]*name="security: finding session-fixation"[^>]*>\s*<failure /);
  }, 60_000);

  it("sends Rails' token of the page after sign-in, new at sign-in (Devise), in the POSTs after it: every increment is accepted", async () => {
    const result = await run('rails-writes', ['--app-profile', profile('rails'), '--app-cmd', command('--shape rails'), '--scenario', 'concurrent-writes', '--strategy', 'sticky', '--users', '5', '--replicas', '2']);
    expect(result.code, result.stderr).toBe(0);
    const row = result.report.results[0]!;
    expect(row.metrics).toMatchObject({ logins: 5, failedLogins: 0 });
    // The app answers 422 to a POST with the sign-in page's token: none was, all 5 x 8 were acknowledged.
    expect(result.samples.filter((sample) => sample.status === 422)).toEqual([]);
    expect(row.metrics!.lostUpdates).toMatchObject({ acknowledged: 40 });
    // A sign-in is the page, the POST answered 302, and the page after it (whose meta tag has the new token).
    const first = result.samples.filter((sample) => sample.kind === 'login' && sample.user === 0).map((sample) => sample.status);
    expect(first).toEqual([200, 302, 200]);
  }, 60_000);

  it("sends Django's token from the csrftoken cookie its login's 302 sets (rotate_token) in the POSTs after login: every increment is accepted", async () => {
    // django.yaml's login steps as they are, with a counter of the test app's to POST to after login.
    const withCounter = path.join(os.tmpdir(), `hactl-django-writes-${process.pid}.yaml`);
    const increment = "increment: { method: POST, path: /counter, headers: { X-CSRFToken: '{{csrf}}' } }\ncounter: { method: GET, path: /counter, value: $.counter }\n";
    await writeFile(withCounter, `${await readFile(profile('django'), 'utf8')}\n${increment}`);
    try {
      const result = await run('django-writes', ['--app-profile', withCounter, '--app-cmd', command('--shape django'), '--scenario', 'concurrent-writes', '--strategy', 'sticky', '--users', '5', '--replicas', '2']);
      expect(result.code, result.stderr).toBe(0);
      const row = result.report.results[0]!;
      expect(row.metrics).toMatchObject({ logins: 5, failedLogins: 0 });
      // The app answers 403 to a POST with the login page's token: none was, all 5 x 8 were acknowledged.
      expect(result.samples.filter((sample) => sample.status === 403)).toEqual([]);
      expect(row.metrics!.lostUpdates).toMatchObject({ acknowledged: 40 });
    } finally {
      await rm(withCounter, { force: true });
    }
  }, 60_000);

  it("uses what a step captured after its followed redirect in the logout: Spring Security's token, new at login", async () => {
    const result = await run('spring-security', ['--app-profile', profile('spring-security'), '--app-cmd', command('--shape spring'), '--scenario', 'security', '--strategy', 'sticky', '--users', '5', '--replicas', '2', '--id-sample', '30']);
    expect(result.code, result.stderr).toBe(0);
    const row = result.report.results[0]!;
    // Every logout went through with the token of the page after login (the app answers 403 to any other), and ended the session.
    expect(row.findings!.find((finding) => finding.id === 'logout-invalidates')).toMatchObject({ passed: true, summary: expect.stringMatching(/^0\/5 sessions were still served after logout/) });
    expect(row.findings!.find((finding) => finding.id === 'session-fixation')).toMatchObject({ passed: true });
    // A login is the page, the POST answered 302, and the page it redirects to.
    const first = result.samples.filter((sample) => sample.kind === 'login' && sample.user === 0).slice(0, 3).map((sample) => sample.status);
    expect(first).toEqual([200, 302, 200]);
  }, 60_000);
});
