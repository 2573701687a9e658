import { invalidatingWarnings, type ExpectationResult, type ExpectationStatus, type Report, type ResultRow } from '../report/model.js';

export type { ExpectationResult, ExpectationStatus };
import { holds, type Bound } from './expression.js';
import { findingOf, metricReader } from './metrics.js';

/** One expectation of a config file: a figure of the rows of one strategy and scenario (`*`: any). */
export interface Expectation {
  strategy: string;
  scenario: string;
  metric: string;
  bound: Bound;
}

export function evaluateExpectations(report: Pick<Report, 'results'>, expectations: readonly Expectation[]): ExpectationResult[] {
  const results: ExpectationResult[] = [];
  for (const expectation of expectations) {
    const rows = report.results.filter((row) => matches(expectation.strategy, row.strategy) && matches(expectation.scenario, row.scenario));
    if (rows.length === 0) {
      results.push({
        strategy: expectation.strategy,
        scenario: expectation.scenario,
        metric: expectation.metric,
        expected: expectation.bound.text,
        actual: null,
        status: 'not-run',
        message: `${expectation.strategy} × ${expectation.scenario} was not part of this run`,
      });
      continue;
    }
    for (const row of rows) results.push(judge(row, expectation));
  }
  return results;
}

function matches(pattern: string, name: string): boolean {
  return pattern === '*' || pattern === name;
}

function judge(row: ResultRow, expectation: Expectation): ExpectationResult {
  const base = { strategy: row.strategy, scenario: row.scenario, metric: expectation.metric, expected: expectation.bound.text };
  const what = `${row.strategy} × ${row.scenario}: ${expectation.metric}`;
  // Before the status: a row invalid for a reason hactl can name fails on that reason, whatever it measured.
  const invalid = invalidatingWarnings(row);
  if (invalid.length > 0) {
    return { ...base, actual: null, status: 'failed', message: `${what}: the row's figures are invalid: ${invalid.map((warning) => `${warning.id}: ${warning.message}`).join('; ')}` };
  }
  if (row.status === 'interrupted') return { ...base, actual: null, status: 'not-run', message: `${what}: the row did not finish: ${row.reason ?? 'the run was interrupted'}` };
  if (row.status !== 'ok') {
    return { ...base, actual: null, status: row.status === 'skipped' ? 'skipped' : 'error', message: `${what}: the row ${row.status === 'skipped' ? 'was skipped' : 'failed'}: ${row.reason ?? 'no reason given'}` };
  }
  const { bound } = expectation;
  if (bound.kind === 'finding') {
    const finding = findingOf(row, expectation.metric);
    // A check that was recorded but could not be made is not a missing figure: its summary says why.
    if (finding && finding.passed === null) {
      const held = bound.passed === null;
      return { ...base, actual: null, status: held ? 'passed' : 'failed', message: `${what} was n/a (${finding.summary}), expected ${bound.text}` };
    }
  }
  const actual = metricReader(expectation.metric)!(row);
  if (actual === null) {
    return { ...base, actual, status: 'failed', message: `${what} has no value in this row (${whyNoValue(row, expectation.metric)}), expected ${expectation.bound.text}` };
  }
  const passed = bound.kind === 'finding' ? actual === bound.passed : typeof actual === 'number' && holds(bound.op, actual, bound.value);
  const shown = typeof actual === 'boolean' ? (actual ? 'pass' : 'fail') : formatNumber(actual);
  // A finding that did not hold carries its evidence: the CI log and JUnit show only this line.
  const evidence = !passed && bound.kind === 'finding' ? findingOf(row, expectation.metric)?.summary : undefined;
  return { ...base, actual, status: passed ? 'passed' : 'failed', message: `${what} was ${shown}${evidence ? ` (${evidence})` : ''}, expected ${bound.text}` };
}

/**
 * Why a row that ran has no value for a figure. Not measuring it is one reason; a row that got no
 * answer at all (a target where nothing listens) or no answered read is another, and saying the
 * scenario "does not measure" a hit rate there would send the user looking in the wrong place.
 */
export function whyNoValue(row: ResultRow, metric: string): string {
  const m = row.metrics;
  if (!m) return `${row.scenario} does not measure it`;
  if (m.requests === 0) return 'the row sent no request';
  if (m.requests > 0 && m.errors === m.requests) return `the row got no answers: all ${m.requests} requests failed (no answer or a 5xx)`;
  // Session loss is measured only around a fault; without one, not answering is not why it is missing.
  const lossFigure = (metric === 'sessionLoss' || metric === 'usersLost') && (m.faults ?? []).length > 0;
  const readFigure = metric === 'hitRate' || metric === 'missRate' || metric.startsWith('read.') || lossFigure;
  if (readFigure && m.reads === 0) {
    const logins = m.failedLogins !== undefined && m.logins !== undefined && m.failedLogins > 0 ? `; ${m.failedLogins}/${m.logins} logins failed` : '';
    return `no read of a user's own session was answered${logins}`;
  }
  return `${row.scenario} does not measure it`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 10_000) / 10_000);
}
