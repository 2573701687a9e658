import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { startHactl, STACK_LINE } from './helpers.js';
import { row } from './oracle.js';

/** security-weak, trimmed to the checks that take no time: fixation fails, stolen-cookie is a fact, cookie-secure is n/a. */
const SCENARIO = fileURLToPath(new URL('../../fixtures/scenarios/security-weak-ci.yaml', import.meta.url));
const FINDINGS = ['stolen-cookie', 'session-fixation', 'cookie-httponly', 'cookie-secure', 'cookie-samesite', 'cookie-path', 'cookie-no-domain'];

/**
 * Security findings in CI mode, through the real CLI against real redis-server: a failed finding
 * is a failed JUnit case whether or not a config names it, and fails the run with
 * --fail-on-findings (or its config key) only; an expectation of n/a holds on a check plain HTTP
 * cannot make.
 */
describe('CI mode: security findings', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-ci-findings-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const run = async (name: string, args: string[] = []) => {
    const file = path.join(dir, `${name}.yaml`);
    await writeFile(
      file,
      [
        'strategy: redis',
        `scenario: ${SCENARIO}`,
        'replicas: 2',
        'users: 2',
        'seed: 7',
        'format: json',
        `out: ${name}.json`,
        `junit: ${name}.xml`,
        'expect:',
        "  redis: { security-weak-ci: { finding.cookie-secure: n/a } }",
        '',
      ].join('\n'),
    );
    const hactl = startHactl(['run', '--config', file, ...args], {}, 90_000);
    const finished = await hactl.finished;
    expect(await hactl.leftovers()).toEqual([]);
    expect(finished.stderr).not.toMatch(STACK_LINE);
    const report = JSON.parse(await readFile(path.join(dir, `${name}.json`), 'utf8')) as Report;
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (tag) => ['testsuite', 'testcase'].includes(tag) }).parse(await readFile(path.join(dir, `${name}.xml`), 'utf8'));
    return { ...finished, report, suites: xml.testsuites };
  };

  it('a failed finding is a failed JUnit case of its own; without --fail-on-findings the run exits 0, and n/a holds as an expectation', async () => {
    const { code, stderr, report, suites } = await run('loose');
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/^hactl: expectations: 1 passed$/m);
    expect(stderr).not.toMatch(/--fail-on-findings/);
    expect(report.settings.failOnFindings).toBeUndefined();
    expect(report.expectations).toEqual([
      expect.objectContaining({ metric: 'finding.cookie-secure', expected: 'n/a', actual: null, status: 'passed', message: expect.stringMatching(/^redis × security-weak-ci: finding\.cookie-secure was n\/a \(not checked: served over plain HTTP; .*\), expected n\/a$/) }),
    ]);

    const findings = new Map((row(report, 'redis', 'security-weak-ci').findings ?? []).map((finding) => [finding.id, finding]));
    expect([...findings.keys()].sort()).toEqual([...FINDINGS].sort());
    expect(findings.get('session-fixation')!.passed).toBe(false);

    // One case per finding: cookie-secure's is the expectation's, the others are the findings' own.
    const cases = suites.testsuite[0].testcase as Record<string, any>[];
    expect(cases.map((c) => c.name)).toEqual([
      'security-weak-ci: finding.cookie-secure n/a',
      ...[...findings.keys()].filter((id) => id !== 'cookie-secure').map((id) => `security-weak-ci: finding ${id}`),
    ]);
    expect(suites).toMatchObject({ failures: '1', errors: '0', skipped: '0' });
    const fixation = cases.find((c) => c.name === 'security-weak-ci: finding session-fixation')!;
    expect(fixation.failure).toMatchObject({ message: findings.get('session-fixation')!.summary, type: 'finding' });
    const stolen = cases.find((c) => c.name === 'security-weak-ci: finding stolen-cookie')!;
    expect(stolen.failure ?? stolen.skipped).toBeUndefined();
    expect(stolen['system-out']).toContain(findings.get('stolen-cookie')!.summary);
    expect(cases[0].failure ?? cases[0].skipped).toBeUndefined();
  }, 90_000);

  // The config key takes the same path once read (config-file.test.ts: failureRules); one run is enough.
  it('with --fail-on-findings, the failed finding fails the run: exit 1, named in the log, recorded in the report', async () => {
    const { code, stderr, report, suites } = await run('fail-on-findings', ['--fail-on-findings']);
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/^hactl: expectations: 1 passed$/m);
    expect(stderr).toMatch(/^hactl: --fail-on-findings: 1 failed finding fails the run \(redis × security-weak-ci: session-fixation\)$/m);
    expect(report.settings.failOnFindings).toBe(true);
    expect(suites).toMatchObject({ tests: String(FINDINGS.length), failures: '1' });
  }, 90_000);
});
