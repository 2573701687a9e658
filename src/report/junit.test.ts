import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { evaluateExpectations } from '../expectations/evaluate.js';
import { parseBound } from '../expectations/expression.js';
import { renderJunit } from './junit.js';
import type { Report, ResultRow } from './model.js';

const rows: ResultRow[] = [
  { strategy: 'none', scenario: 'login-read', status: 'ok', durationMs: 1500, metrics: { hitRate: 0.34 } as ResultRow['metrics'] },
  { strategy: 'redis', scenario: 'login-read', status: 'ok', durationMs: 1200, metrics: { hitRate: 1 } as ResultRow['metrics'] },
  { strategy: 'redis', scenario: 'kill-node', status: 'ok', durationMs: 2500, metrics: { hitRate: 1 } as ResultRow['metrics'] },
  { strategy: 'mongo', scenario: 'login-read', status: 'skipped', reason: 'no mongod on PATH & no <HACTL_MONGO_URL>' },
  { strategy: 'postgres', scenario: 'login-read', status: 'error', reason: 'postgres did not start: "initdb" failed' },
];

function report(strict = false): Report {
  const base = { schemaVersion: 1, tool: { name: 'hactl', version: '9.9.9' }, runId: 'abcd1234', startedAt: '2026-11-30T04:00:00.000Z', durationMs: 12_345, settings: { strict }, results: rows } as unknown as Report;
  const expectations = ['none', 'redis'].map((strategy) => ({ strategy, scenario: 'login-read', metric: 'hitRate', bound: parseBound('>= 1')! }));
  return { ...base, expectations: evaluateExpectations(base, [...expectations, { strategy: 'sticky', scenario: 'kill-node', metric: 'sessionLoss', bound: parseBound('< 0.5')! }]) };
}

const parse = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) }).parse(xml);

describe('JUnit report', () => {
  it('is well-formed XML with a suite per strategy and a case per scenario x expectation', () => {
    const xml = renderJunit(report());
    expect(XMLValidator.validate(xml)).toBe(true);
    const root = parse(xml).testsuites;
    expect(root).toMatchObject({ tests: '6', failures: '1', errors: '1', skipped: '2', time: '12.345' });
    expect(root.testsuite.map((suite: { name: string }) => suite.name)).toEqual(['hactl none', 'hactl redis', 'hactl mongo', 'hactl postgres', 'hactl (not run)']);
    const none = root.testsuite[0].testcase[0];
    expect(none).toMatchObject({ classname: 'hactl.none', name: 'login-read: hitRate >= 1', time: '1.500' });
    // The failure names the figure, what it was, and the bound.
    expect(none.failure).toMatchObject({ message: 'none × login-read: hitRate was 0.34, expected >= 1', type: 'expectation' });
    // A row without expectations is one case: passed, or skipped / error with its reason, escaped.
    expect(root.testsuite[1].testcase.map((c: { name: string }) => c.name)).toEqual(['login-read: hitRate >= 1', 'kill-node']);
    expect(root.testsuite[2].testcase[0].skipped.message).toBe('mongo × login-read: no mongod on PATH & no <HACTL_MONGO_URL>');
    expect(root.testsuite[3].testcase[0].error.message).toBe('postgres × login-read: postgres did not start: "initdb" failed');
    expect(root.testsuite[4].testcase[0]).toMatchObject({ name: 'sticky × kill-node: sessionLoss < 0.5', skipped: { message: 'sticky × kill-node was not part of this run' } });
  });

  it('with --strict a skipped row is a failure', () => {
    const root = parse(renderJunit(report(true))).testsuites;
    expect(root).toMatchObject({ failures: '2', skipped: '1' });
    expect(root.testsuite[2].testcase[0].failure.message).toMatch(/no mongod on PATH .*\(--strict: a skipped row fails the run\)$/);
  });

  it("puts a row's warnings in system-out, makes an invalid row a failure, and its failed logins a property", () => {
    const warnedRows: ResultRow[] = [
      {
        strategy: 'none',
        scenario: 'login-read',
        status: 'ok',
        durationMs: 1000,
        metrics: { hitRate: 0.34, logins: 30, failedLogins: 3 } as ResultRow['metrics'],
        warnings: [{ id: 'failed-logins', message: '3/30 logins failed (first: answered 403: "<no token>")' }],
      },
      { strategy: 'sticky', scenario: 'login-read', status: 'ok', durationMs: 1000, metrics: { hitRate: 1 } as ResultRow['metrics'], warnings: [{ id: 'fail-open', message: 'every request went to one replica', invalid: true }] },
      { strategy: 'redis', scenario: 'login-read', status: 'error', reason: '10/10 logins failed', warnings: [{ id: 'failed-logins', message: '10/10 logins failed (first: answered 403)', invalid: true }] },
    ];
    const base = { schemaVersion: 1, tool: { name: 'hactl', version: '9.9.9' }, runId: 'abcd1234', startedAt: '2026-11-30T04:00:00.000Z', durationMs: 3000, settings: {}, results: warnedRows } as unknown as Report;
    const judged = { ...base, expectations: evaluateExpectations(base, [{ strategy: 'sticky', scenario: 'login-read', metric: 'hitRate', bound: parseBound('>= 1')! }]) };
    const xml = renderJunit(judged);
    expect(XMLValidator.validate(xml)).toBe(true);
    const root = parse(xml).testsuites;
    expect(root).toMatchObject({ tests: '3', failures: '2', errors: '0', skipped: '0' });
    const [none, sticky, redis] = root.testsuite.map((suite: { testcase: Record<string, unknown>[] }) => suite.testcase[0]);
    // A warning that does not invalidate the row: the case passes, and says it.
    expect(none.failure).toBeUndefined();
    expect(none['system-out']).toBe('none × login-read: warning: 3/30 logins failed (first: answered 403: "<no token>")');
    expect(none.properties.property).toEqual([
      { name: 'failedLogins', value: '3' },
      { name: 'logins', value: '30' },
    ]);
    // An expectation on an invalid row fails on the warning, whatever the figure.
    expect(sticky.failure.message).toBe("sticky × login-read: hitRate: the row's figures are invalid: fail-open: every request went to one replica");
    // Without expectations, an invalid row is a failure, not an environment error.
    expect(redis.failure.message).toBe('redis × login-read: invalid: 10/10 logins failed (first: answered 403)');
    expect(redis.error).toBeUndefined();
  });

  it('is the same for the same report', () => {
    expect(renderJunit(report())).toBe(renderJunit(JSON.parse(JSON.stringify(report())) as Report));
  });

  it("counts a row's time once however many expectations judge it: suites add up to no more than the run", () => {
    const timed: ResultRow[] = [
      { strategy: 'redis', scenario: 'login-read', status: 'ok', durationMs: 2000, metrics: { hitRate: 1, errors: 0, latencyByKind: { read: { count: 1, p50: 1, p95: 1, p99: 1, max: 1 } } } as unknown as ResultRow['metrics'] },
      { strategy: 'redis', scenario: 'kill-node', status: 'ok', durationMs: 3000, metrics: { hitRate: 1, errors: 0, latencyByKind: { read: { count: 1, p50: 1, p95: 1, p99: 1, max: 1 } } } as unknown as ResultRow['metrics'] },
    ];
    const base = { schemaVersion: 1, tool: { name: 'hactl', version: '9.9.9' }, runId: 'abcd1234', startedAt: '2026-11-30T04:00:00.000Z', durationMs: 5500, settings: {}, results: timed } as unknown as Report;
    const on = (scenario: string, metric: string) => ({ strategy: 'redis', scenario, metric, bound: parseBound('>= 0')! });
    const judged = { ...base, expectations: evaluateExpectations(base, [on('login-read', 'hitRate'), on('login-read', 'errors'), on('login-read', 'read.p99'), on('kill-node', 'hitRate')]) };
    const root = parse(renderJunit(judged)).testsuites;
    const suite = root.testsuite[0];
    expect(suite.testcase.map((c: { name: string; time: string }) => [c.name, c.time])).toEqual([
      ['login-read: hitRate >= 0', '2.000'],
      ['login-read: errors >= 0', '0.000'],
      ['login-read: read.p99 >= 0', '0.000'],
      ['kill-node: hitRate >= 0', '3.000'],
    ]);
    const caseSum = suite.testcase.reduce((sum: number, c: { time: string }) => sum + Number(c.time), 0);
    expect(Number(suite.time)).toBe(5);
    expect(caseSum).toBe(5);
    expect(Number(suite.time)).toBeLessThanOrEqual(Number(root.time));
  });

  describe('security findings', () => {
    const finding = (id: string, passed: boolean | null, summary: string, extra: Record<string, unknown> = {}) => ({ id, title: `the ${id} check`, passed, summary, evidence: {}, ...extra });
    const findings = [
      finding('stolen-cookie', null, 'a stolen cookie read the victim\'s data in 2/2 replays', { fact: true }),
      finding('session-fixation', false, 'the id stayed the same in 2/2 logins over a planted id'),
      finding('cookie-httponly', true, '15/15 Set-Cookies of JSESSIONID complied'),
      finding('cookie-secure', null, 'not checked: served over plain HTTP; 0/15 Set-Cookies had it'),
    ];
    const security = (strategy: string, more: Partial<ResultRow> = {}): ResultRow => ({
      strategy,
      scenario: 'security',
      status: 'ok',
      durationMs: 4000,
      metrics: { hitRate: null } as unknown as ResultRow['metrics'],
      findings,
      warnings: [{ id: 'replicas-seen', message: '2/2 replicas answered' }],
      ...more,
    });
    const judged = (results: ResultRow[], expectations: Parameters<typeof evaluateExpectations>[1] = []) => {
      const base = { schemaVersion: 1, tool: { name: 'hactl', version: '9.9.9' }, runId: 'abcd1234', startedAt: '2026-11-30T04:00:00.000Z', durationMs: 9000, settings: {}, results } as unknown as Report;
      return parse(renderJunit({ ...base, ...(expectations.length > 0 ? { expectations: evaluateExpectations(base, expectations) } : {}) })).testsuites;
    };
    type Case = Record<string, any>;

    it("each finding is a case: failed, skipped with its reason when n/a, passed; a fact passes with its summary in system-out; the row's time on its first case only", () => {
      const root = judged([security('redis')]);
      expect(root).toMatchObject({ tests: '5', failures: '1', errors: '0', skipped: '1' });
      const cases: Case[] = root.testsuite[0].testcase;
      expect(cases.map((c) => [c.classname, c.name, c.time])).toEqual([
        ['hactl.redis', 'security', '4.000'],
        ['hactl.redis', 'security: finding stolen-cookie', '0.000'],
        ['hactl.redis', 'security: finding session-fixation', '0.000'],
        ['hactl.redis', 'security: finding cookie-httponly', '0.000'],
        ['hactl.redis', 'security: finding cookie-secure', '0.000'],
      ]);
      const [row, fact, fixation, httponly, secure] = cases as [Case, Case, Case, Case, Case];
      expect(row.failure).toBeUndefined();
      expect(fact.failure ?? fact.skipped).toBeUndefined();
      expect(fact['system-out'].split('\n')).toEqual(['redis × security: warning: 2/2 replicas answered', "a stolen cookie read the victim's data in 2/2 replays"]);
      expect(fixation.failure).toMatchObject({ message: 'the id stayed the same in 2/2 logins over a planted id', type: 'finding' });
      expect(fixation['system-out']).toBe('redis × security: warning: 2/2 replicas answered');
      expect(httponly.failure ?? httponly.skipped).toBeUndefined();
      expect(secure.skipped.message).toBe('not checked: served over plain HTTP; 0/15 Set-Cookies had it');
      expect(Number(root.testsuite[0].time)).toBe(4);
    });

    it('a finding an expectation judged is that expectation\'s case, not a second one; the others keep theirs', () => {
      const root = judged([security('redis'), security('sticky')], [
        { strategy: 'redis', scenario: 'security', metric: 'finding.session-fixation', bound: parseBound('fail')! },
        { strategy: '*', scenario: 'security', metric: 'finding.cookie-secure', bound: parseBound('n/a')! },
      ]);
      const names = (suite: number) => root.testsuite[suite].testcase.map((c: Case) => c.name);
      expect(names(0)).toEqual(['security: finding.session-fixation fail', 'security: finding.cookie-secure n/a', 'security: finding stolen-cookie', 'security: finding cookie-httponly']);
      expect(names(1)).toEqual(['security: finding.cookie-secure n/a', 'security: finding stolen-cookie', 'security: finding session-fixation', 'security: finding cookie-httponly']);
      // redis accepted its known failure; sticky's is still a failed case.
      expect(root.testsuite[0]).toMatchObject({ failures: '0', skipped: '0' });
      expect(root.testsuite[1]).toMatchObject({ failures: '1', skipped: '0' });
      expect(root.testsuite[1].testcase[2].failure.message).toBe('the id stayed the same in 2/2 logins over a planted id');
      expect(root.testsuite[0].testcase[1]).toMatchObject({ time: '0.000' });
      expect(root.testsuite[0].testcase[0]).toMatchObject({ time: '4.000' });
    });

    it("an invalid or failed row's findings are skipped, not judged: its own case fails or errors", () => {
      const invalid = security('redis', { warnings: [{ id: 'fail-open', message: 'every request went to one replica', invalid: true }] });
      const errored = security('sticky', { status: 'error', reason: 'replica-2 did not start', warnings: [] });
      const root = judged([invalid, errored]);
      expect(root).toMatchObject({ tests: '10', failures: '1', errors: '1', skipped: '8' });
      const [redis, sticky] = root.testsuite.map((suite: { testcase: Case[] }) => suite.testcase) as [Case[], Case[]];
      expect(redis[0].failure.message).toBe('redis × security: invalid: every request went to one replica');
      expect(redis[2].skipped.message).toBe("redis × security: finding session-fixation not judged: the row's figures are invalid: fail-open: every request went to one replica");
      expect(sticky[0].error.message).toBe('sticky × security: replica-2 did not start');
      expect(sticky[2].skipped.message).toBe('sticky × security: finding session-fixation not judged: the row failed: replica-2 did not start');
    });

    it("an interrupted row's finding named by an expectation is one case, the expectation's, not two", () => {
      const root = judged([security('redis', { status: 'interrupted', reason: 'Ctrl-C' })], [
        { strategy: 'redis', scenario: 'security', metric: 'finding.session-fixation', bound: parseBound('pass')! },
      ]);
      const names: string[] = root.testsuite[0].testcase.map((c: Case) => c.name);
      expect(names.filter((name) => name.includes('session-fixation'))).toEqual(['security: finding.session-fixation pass']);
    });
  });

  it("puts the fault commands that ran in the row's system-out, after its warnings", () => {
    const faulted: ResultRow = {
      strategy: 'redis',
      scenario: 'kill-node',
      status: 'ok',
      durationMs: 3000,
      metrics: {
        hitRate: 1,
        faults: [{ kind: 'kill-replica', target: 'replica-1', at: 900, observed: false, effect: 'command-start', observation: 'replica-1 kept answering', commands: [{ flag: '--kill-replica-cmd', command: 'echo kill', startAt: 900, endAt: 950, exit: 'exit 0', output: 'kill' }] }],
      } as unknown as ResultRow['metrics'],
      warnings: [{ id: 'fault-not-observed', message: 'replica-1 kept answering after the kill command', invalid: true }],
    };
    const base = { schemaVersion: 1, tool: { name: 'hactl', version: '9.9.9' }, runId: 'abcd1234', startedAt: '2026-11-30T04:00:00.000Z', durationMs: 3500, settings: {}, results: [faulted] } as unknown as Report;
    const testCase = parse(renderJunit(base)).testsuites.testsuite[0].testcase[0];
    expect(testCase.failure.message).toBe('redis × kill-node: invalid: replica-1 kept answering after the kill command');
    expect(testCase['system-out'].split('\n')).toEqual([
      'redis × kill-node: invalid: replica-1 kept answering after the kill command',
      "redis × kill-node: kill-replica replica-1: NOT observed (timed from the command's start): replica-1 kept answering",
      'redis × kill-node: kill-replica replica-1: --kill-replica-cmd exit 0 after 0.05 s (from 0.90 s): "kill"',
    ]);
  });
});
