import { describe, expect, it } from 'vitest';
import { evaluateExpectations } from '../expectations/evaluate.js';
import { parseBound } from '../expectations/expression.js';
import { expectationLines } from './expectation-lines.js';
import type { Report, ResultRow } from './model.js';

const finding = (id: string, passed: boolean | null, summary = `${id}: what was seen`) => ({ id, title: id, passed, summary, evidence: {} });
const row = (strategy: string, findings: ResultRow['findings']): ResultRow => ({ strategy, scenario: 'security', status: 'ok', metrics: {} as ResultRow['metrics'], findings });
const results = [
  row('none', [finding('logout-invalidates', false), finding('session-fixation', false), finding('cookie-secure', null, 'not checked: served over plain HTTP')]),
  row('redis', [finding('session-fixation', false), finding('cookie-secure', null, 'not checked: served over plain HTTP')]),
];
const report = (settings: Report['settings'], expect: Parameters<typeof evaluateExpectations>[1] = []) => ({
  settings,
  results,
  ...(expect.length > 0 ? { expectations: evaluateExpectations({ results }, expect) } : {}),
});

describe('the CI log', () => {
  it('with --fail-on-findings, names the failed findings that fail the run; those an expectation judged are its own lines', () => {
    const lines = expectationLines(
      report({ failOnFindings: true } as Report['settings'], [
        { strategy: 'none', scenario: 'security', metric: 'finding.logout-invalidates', bound: parseBound('fail')! },
        { strategy: '*', scenario: 'security', metric: 'finding.cookie-secure', bound: parseBound('pass')! },
      ]),
    );
    expect(lines).toEqual([
      'expectations: 1 passed, 2 failed',
      '  FAIL none × security: finding.cookie-secure was n/a (not checked: served over plain HTTP), expected pass',
      '  FAIL redis × security: finding.cookie-secure was n/a (not checked: served over plain HTTP), expected pass',
      '--fail-on-findings: 2 failed findings fail the run (none × security: session-fixation, redis × security: session-fixation)',
    ]);
  });

  it('says nothing of findings without the flag, and nothing when none failed', () => {
    expect(expectationLines(report({} as Report['settings']))).toEqual([]);
    const passing = { settings: { failOnFindings: true } as Report['settings'], results: [row('redis', [finding('cookie-httponly', true), finding('cookie-secure', null)])] };
    expect(expectationLines(passing)).toEqual([]);
    const one = { settings: { failOnFindings: true } as Report['settings'], results: [results[1]!] };
    expect(expectationLines(one)).toEqual(['--fail-on-findings: 1 failed finding fails the run (redis × security: session-fixation)']);
  });

  it('names the figures of expectations on rows the run did not have, once per row, not once per figure', () => {
    const lines = expectationLines(
      report({} as Report['settings'], [
        { strategy: 'redis', scenario: 'login-read', metric: 'hitRate', bound: parseBound('>= 1')! },
        { strategy: 'redis', scenario: 'login-read', metric: 'read.p99', bound: parseBound('< 250')! },
        { strategy: '*', scenario: 'kill-node', metric: 'sessionLoss', bound: parseBound('== 0')! },
      ]),
    );
    expect(lines).toEqual([
      'expectations: 3 not-run',
      '  NOT RUN redis × login-read: hitRate >= 1, read.p99 < 250 not judged: redis × login-read was not part of this run',
      '  NOT RUN * × kill-node: sessionLoss == 0 not judged: * × kill-node was not part of this run',
    ]);
  });
});
