import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../report/model.js';
import { evaluateExpectations, type Expectation } from './evaluate.js';
import { holds, parseBound } from './expression.js';
import { exitCodeFor } from './verdict.js';

const metrics = (values: Record<string, unknown>) => ({ latencyByKind: { read: { count: 10, p50: 4, p95: 9, p99: 12.5, max: 20 } }, ...values }) as unknown as ResultRow['metrics'];
const rows: ResultRow[] = [
  { strategy: 'none', scenario: 'login-read', status: 'ok', durationMs: 900, metrics: metrics({ hitRate: 0.3333333, sessionLoss: null }) },
  { strategy: 'redis', scenario: 'login-read', status: 'ok', durationMs: 800, metrics: metrics({ hitRate: 1, sessionLoss: null }) },
  { strategy: 'redis', scenario: 'kill-node', status: 'ok', durationMs: 2000, metrics: metrics({ hitRate: 1, sessionLoss: 0 }), findings: [{ id: 'forged-id-read', title: 't', passed: true, summary: 's', evidence: {} }] },
  { strategy: 'mongo', scenario: 'login-read', status: 'skipped', reason: 'no mongod on PATH' },
  { strategy: 'postgres', scenario: 'login-read', status: 'error', reason: 'postgres did not start' },
];
const expectation = (strategy: string, scenario: string, metric: string, bound: string): Expectation => ({ strategy, scenario, metric, bound: parseBound(bound)! });

describe('expectation bounds', () => {
  it.each([
    ['>= 0.99', 0.99, true],
    ['>=0.99', 0.98, false],
    ['== 0', 0, true],
    ['!= 0', 0, false],
    ['< 250', 249.9, true],
    ['<= 1e2', 100, true],
    ['> 50%', 0.51, true],
  ])('%s against %d: %s', (text, actual, expected) => {
    const bound = parseBound(text);
    expect(bound?.kind).toBe('compare');
    if (bound?.kind === 'compare') expect(holds(bound.op, actual, bound.value)).toBe(expected);
  });

  it.each(['>= high', '=> 1', '1', '', 'passed'])('refuses %j', (text) => expect(parseBound(text)).toBeUndefined());
});

describe('evaluating expectations', () => {
  it('judges each matching row, naming the figure, what it was and what was expected', () => {
    const results = evaluateExpectations({ results: rows }, [
      expectation('none', 'login-read', 'hitRate', '>= 1'),
      expectation('redis', '*', 'hitRate', '>= 1'),
      expectation('redis', 'kill-node', 'read.p99', '< 10'),
      expectation('redis', 'kill-node', 'finding.forged-id-read', 'pass'),
    ]);
    expect(results.map((r) => [r.strategy, r.scenario, r.status, r.message])).toEqual([
      ['none', 'login-read', 'failed', 'none × login-read: hitRate was 0.3333, expected >= 1'],
      ['redis', 'login-read', 'passed', 'redis × login-read: hitRate was 1, expected >= 1'],
      ['redis', 'kill-node', 'passed', 'redis × kill-node: hitRate was 1, expected >= 1'],
      ['redis', 'kill-node', 'failed', 'redis × kill-node: read.p99 was 12.5, expected < 10'],
      ['redis', 'kill-node', 'passed', 'redis × kill-node: finding.forged-id-read was pass, expected pass'],
    ]);
  });

  it('a figure the row does not measure fails, saying so; rows that did not run are told apart', () => {
    const results = evaluateExpectations({ results: rows }, [
      expectation('redis', 'login-read', 'sessionLoss', '== 0'),
      expectation('mongo', 'login-read', 'hitRate', '>= 1'),
      expectation('postgres', 'login-read', 'hitRate', '>= 1'),
      expectation('sticky', 'kill-node', 'sessionLoss', '< 0.5'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['failed', 'skipped', 'error', 'not-run']);
    expect(results[0]!.message).toBe('redis × login-read: sessionLoss has no value in this row (login-read does not measure it), expected == 0');
    expect(results[1]!.message).toBe('mongo × login-read: hitRate: the row was skipped: no mongod on PATH');
    expect(results[3]!.message).toBe('sticky × kill-node was not part of this run');
  });
});

describe('a figure with no value', () => {
  const ran = (values: Record<string, unknown>): ResultRow => ({ strategy: 'redis', scenario: 'login-read', status: 'ok', metrics: metrics({ hitRate: null, missRate: null, sessionLoss: null, faults: [], reads: 0, logins: 30, failedLogins: 0, ...values }) });

  it('says a row that got no answers at all got none, not that its scenario does not measure the figure', () => {
    const [result] = evaluateExpectations({ results: [ran({ requests: 330, errors: 330, failedLogins: 30 })] }, [expectation('redis', 'login-read', 'hitRate', '>= 0.99')]);
    expect(result).toMatchObject({ status: 'failed', actual: null });
    expect(result!.message).toBe('redis × login-read: hitRate has no value in this row (the row got no answers: all 330 requests failed (no answer or a 5xx)), expected >= 0.99');
  });

  it('says no read was answered when answers came but none to a read, with the failed logins', () => {
    const [result] = evaluateExpectations({ results: [ran({ requests: 60, errors: 0, failedLogins: 30, latencyByKind: {} })] }, [expectation('redis', 'login-read', 'read.p99', '< 100')]);
    expect(result!.message).toBe("redis × login-read: read.p99 has no value in this row (no read of a user's own session was answered; 30/30 logins failed), expected < 100");
  });

  it('keeps "does not measure it" for a figure the scenario does not measure, even on a row that got nothing', () => {
    const [loss] = evaluateExpectations({ results: [ran({ requests: 60, errors: 0 })] }, [expectation('redis', 'login-read', 'sessionLoss', '== 0')]);
    expect(loss!.message).toBe('redis × login-read: sessionLoss has no value in this row (login-read does not measure it), expected == 0');
    const [sent] = evaluateExpectations({ results: [ran({ requests: 0, errors: 0 })] }, [expectation('redis', 'login-read', 'hitRate', '>= 1')]);
    expect(sent!.message).toBe('redis × login-read: hitRate has no value in this row (the row sent no request), expected >= 1');
  });
});

describe('rows with warnings', () => {
  const warned: ResultRow = { ...rows[1]!, warnings: [{ id: 'failed-logins', message: '3/30 logins failed (first: answered 403)' }] };
  const invalid: ResultRow = { ...rows[1]!, warnings: [{ id: 'fail-open', message: 'every request went to one replica', invalid: true }] };
  const loginsFailed: ResultRow = { strategy: 'redis', scenario: 'login-read', status: 'error', reason: '30/30 logins failed', warnings: [{ id: 'failed-logins', message: '30/30 logins failed (first: answered 403)', invalid: true }] };

  it('a warning that does not invalidate the row leaves its expectations to its figures', () => {
    const [result] = evaluateExpectations({ results: [warned] }, [expectation('redis', 'login-read', 'hitRate', '>= 1')]);
    expect(result).toMatchObject({ status: 'passed', actual: 1 });
  });

  it('an invalidating warning fails every expectation on the row, quoting the warning, even one the figure meets', () => {
    const results = evaluateExpectations({ results: [invalid, loginsFailed] }, [expectation('redis', 'login-read', 'hitRate', '>= 1')]);
    expect(results.map((r) => [r.status, r.actual, r.message])).toEqual([
      ['failed', null, "redis × login-read: hitRate: the row's figures are invalid: fail-open: every request went to one replica"],
      ['failed', null, "redis × login-read: hitRate: the row's figures are invalid: failed-logins: 30/30 logins failed (first: answered 403)"],
    ]);
  });

  it('failedLogins is a figure expectations may name', () => {
    const row: ResultRow = { ...rows[1]!, metrics: metrics({ hitRate: 1, logins: 30, failedLogins: 0 }) };
    expect(evaluateExpectations({ results: [row] }, [expectation('redis', 'login-read', 'failedLogins', '== 0')])[0]).toMatchObject({ status: 'passed', actual: 0 });
  });

  it('an invalid row makes the run exit 3, as an error row does; a mere warning does not', () => {
    const ok = rows.filter((row) => row.status === 'ok');
    expect(exitCodeFor({ results: [...ok, warned] }, { strict: false })).toBe(0);
    expect(exitCodeFor({ results: [...ok, invalid] }, { strict: false })).toBe(3);
    // A failed expectation still says 1: there is a regression to look at.
    const judged = evaluateExpectations({ results: [invalid] }, [expectation('redis', 'login-read', 'hitRate', '>= 1')]);
    expect(exitCodeFor({ results: [...ok, invalid], expectations: judged }, { strict: false })).toBe(1);
  });
});

describe('exit codes', () => {
  const judged = (bound: string) => evaluateExpectations({ results: rows }, [expectation('redis', 'login-read', 'hitRate', bound)]);
  const ok = rows.filter((row) => row.status === 'ok');

  it('0 when every expectation holds; 1 when one fails, even beside an error row; 3 for an error row alone', () => {
    expect(exitCodeFor({ results: ok, expectations: judged('>= 1') }, { strict: false })).toBe(0);
    expect(exitCodeFor({ results: rows, expectations: judged('< 1') }, { strict: false })).toBe(1);
    expect(exitCodeFor({ results: rows, expectations: judged('>= 1') }, { strict: false })).toBe(3);
  });

  it('a skipped row fails the run only with --strict', () => {
    const skipped = [...ok, rows[3]!];
    expect(exitCodeFor({ results: skipped }, { strict: false })).toBe(0);
    expect(exitCodeFor({ results: skipped }, { strict: true })).toBe(1);
  });
});

describe('expectations on findings that could not be checked (n/a)', () => {
  const finding = (id: string, passed: boolean | null, summary: string) => ({ id, title: id, passed, summary, evidence: {} });
  const security: ResultRow = {
    strategy: 'redis',
    scenario: 'security',
    status: 'ok',
    metrics: metrics({ hitRate: null, requests: 40, errors: 0, reads: 0 }),
    findings: [
      finding('cookie-secure', null, 'not checked: served over plain HTTP; 0/15 Set-Cookies had it'),
      finding('session-fixation', false, 'the id stayed the same in 1/1 logins over a planted id'),
      finding('cookie-httponly', true, '15/15 Set-Cookies of JSESSIONID complied'),
    ],
  };
  const judge = (metric: string, bound: string) => evaluateExpectations({ results: [security] }, [expectation('redis', 'security', metric, bound)])[0]!;

  it('parses n/a as a finding bound', () => {
    expect(parseBound('n/a')).toEqual({ kind: 'finding', passed: null, text: 'n/a' });
    expect(parseBound(' n/a ')).toEqual({ kind: 'finding', passed: null, text: 'n/a' });
    expect(parseBound('N/A')).toBeUndefined();
  });

  it('n/a holds on a finding that could not be checked, and pass or fail there fails quoting its own reason', () => {
    expect(judge('finding.cookie-secure', 'n/a')).toMatchObject({
      status: 'passed',
      actual: null,
      message: 'redis × security: finding.cookie-secure was n/a (not checked: served over plain HTTP; 0/15 Set-Cookies had it), expected n/a',
    });
    for (const bound of ['pass', 'fail']) {
      expect(judge('finding.cookie-secure', bound)).toMatchObject({
        status: 'failed',
        actual: null,
        message: `redis × security: finding.cookie-secure was n/a (not checked: served over plain HTTP; 0/15 Set-Cookies had it), expected ${bound}`,
      });
    }
  });

  it('n/a fails on a finding that passed or failed', () => {
    expect(judge('finding.session-fixation', 'n/a')).toMatchObject({ status: 'failed', actual: false, message: 'redis × security: finding.session-fixation was fail (the id stayed the same in 1/1 logins over a planted id), expected n/a' });
    expect(judge('finding.cookie-httponly', 'n/a')).toMatchObject({ status: 'failed', actual: true, message: 'redis × security: finding.cookie-httponly was pass (15/15 Set-Cookies of JSESSIONID complied), expected n/a' });
  });

  it('a finding the row did not record has no value, whatever the bound: n/a is not absent', () => {
    for (const bound of ['pass', 'n/a']) {
      expect(judge('finding.idle-timeout', bound)).toMatchObject({
        status: 'failed',
        actual: null,
        message: `redis × security: finding.idle-timeout has no value in this row (security does not measure it), expected ${bound}`,
      });
    }
  });
});

describe('--fail-on-findings', () => {
  const finding = (id: string, passed: boolean | null, extra: Record<string, unknown> = {}) => ({ id, title: id, passed, summary: `${id} summary`, evidence: {}, ...extra });
  const row = (strategy: string, findings: ResultRow['findings'], more: Partial<ResultRow> = {}): ResultRow => ({ strategy, scenario: 'security', status: 'ok', metrics: metrics({}), findings, ...more });
  const clean = row('redis', [finding('cookie-httponly', true), finding('cookie-secure', null), finding('stolen-cookie', null, { fact: true })]);
  const failing = row('sticky', [finding('session-fixation', false), finding('cookie-httponly', true)]);
  const code = (report: { results: ResultRow[]; expectations?: ReturnType<typeof evaluateExpectations> }, failOnFindings: boolean) => exitCodeFor(report, { strict: false, failOnFindings });

  it('a failed finding exits 1 only with the flag; n/a and facts never do', () => {
    expect(code({ results: [clean, failing] }, false)).toBe(0);
    expect(code({ results: [clean, failing] }, true)).toBe(1);
    expect(code({ results: [clean] }, true)).toBe(0);
    expect(exitCodeFor({ results: [clean, failing] }, { strict: false })).toBe(0);
  });

  it("an invalid or failed row's findings are not judged: exit 3 stands; a valid row's failure beside it still says 1", () => {
    const invalid = { ...failing, warnings: [{ id: 'fail-open' as const, message: 'every request went to one replica', invalid: true }] };
    const errored = { ...failing, status: 'error' as const, reason: 'the store died' };
    expect(code({ results: [clean, invalid] }, true)).toBe(3);
    expect(code({ results: [clean, errored] }, true)).toBe(3);
    expect(code({ results: [row('redis', [finding('session-fixation', false)]), errored] }, true)).toBe(1);
  });

  it('a finding an expectation judged is left to it: fail accepts a known failure, pass fails on the expectation', () => {
    const accepted = evaluateExpectations({ results: [failing] }, [expectation('sticky', 'security', 'finding.session-fixation', 'fail')]);
    expect(code({ results: [failing], expectations: accepted }, true)).toBe(0);
    // An expectation on another strategy's row does not cover this one.
    const elsewhere = evaluateExpectations({ results: [failing] }, [expectation('redis', 'security', 'finding.session-fixation', 'fail')]);
    expect(elsewhere[0]!.status).toBe('not-run');
    expect(code({ results: [failing], expectations: elsewhere }, true)).toBe(1);
    const expected = evaluateExpectations({ results: [failing] }, [expectation('sticky', 'security', 'finding.session-fixation', 'pass')]);
    expect(code({ results: [failing], expectations: expected }, false)).toBe(1);
  });
});
