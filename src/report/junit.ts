import type { ExpectationResult } from './model.js';
import { faultRowLines, warningLine } from './cells.js';
import { findingsNotJudged, isFactFinding, judgedByExpectation } from './failed-findings.js';
import { invalidatingWarnings, type Report, type ResultRow } from './model.js';

/**
 * JUnit XML, as CI report viewers read it (Jenkins, GitLab, GitHub actions that annotate tests):
 * a suite per strategy, a test case per scenario × expectation, the measured figure and the
 * bound in each failure's message. A row without expectations is one test case, so that rows
 * that were skipped or failed are still seen. Each security finding of a row is a case of its
 * own (`<scenario>: finding <id>`), failed when the check failed, with or without
 * --fail-on-findings: a CI view must show a failed check that no expectation names. A row's
 * warnings are in its cases' system-out, and one that invalidates the row makes its case a
 * failure: CI must not pass figures that measure nothing. A figure only some rows have to tell (failed logins) is a property of its cases.
 * Times add up as viewers add them: a case's is its row's (on the row's first case only), a
 * suite's the sum of its cases', and the whole the run's wall time, which also holds what no row
 * owns (pre-flight, store start-up), so it is never less than the suites' sum.
 */
export function renderJunit(report: Report): string {
  const strict = report.settings.strict === true;
  const strategies = [...new Set(report.results.map((row) => row.strategy))];
  const suites = strategies.map((strategy) => {
    const rows = report.results.filter((row) => row.strategy === strategy);
    const cases = rows.flatMap((row) => casesOf(row, report.expectations ?? [], strict));
    // Expectations on rows this strategy did not run (an unknown scenario name, a narrowed run).
    for (const result of (report.expectations ?? []).filter((r) => r.strategy === strategy && r.status === 'not-run')) {
      cases.push({ name: `${result.scenario}: ${result.metric} ${result.expected}`, time: 0, outcome: { kind: 'skipped', message: result.message }, properties: [], out: [] });
    }
    return { name: `hactl ${strategy}`, classname: `hactl.${strategy}`, cases };
  });
  const orphans = (report.expectations ?? []).filter((r) => r.status === 'not-run' && !strategies.includes(r.strategy));
  if (orphans.length > 0) {
    suites.push({
      name: 'hactl (not run)',
      classname: 'hactl.not-run',
      cases: orphans.map((result) => ({ name: `${result.strategy} × ${result.scenario}: ${result.metric} ${result.expected}`, time: 0, outcome: { kind: 'skipped', message: result.message }, properties: [], out: [] })),
    });
  }

  const count = (cases: readonly TestCase[], kind: Outcome['kind']) => cases.filter((c) => c.outcome.kind === kind).length;
  const all = suites.flatMap((suite) => suite.cases);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="hactl run ${attr(report.runId)}" tests="${all.length}" failures="${count(all, 'failure')}" errors="${count(all, 'error')}" skipped="${count(all, 'skipped')}" time="${seconds(report.durationMs)}">`,
  ];
  for (const suite of suites) {
    const time = suite.cases.reduce((sum, c) => sum + c.time, 0);
    lines.push(
      `  <testsuite name="${attr(suite.name)}" tests="${suite.cases.length}" failures="${count(suite.cases, 'failure')}" errors="${count(suite.cases, 'error')}" skipped="${count(suite.cases, 'skipped')}" time="${seconds(time)}" timestamp="${attr(report.startedAt.replace(/Z$/, ''))}">`,
    );
    for (const testCase of suite.cases) {
      const open = `    <testcase classname="${attr(suite.classname)}" name="${attr(testCase.name)}" time="${seconds(testCase.time)}"`;
      const { outcome } = testCase;
      const inner: string[] = [];
      if (testCase.properties.length > 0) {
        inner.push('      <properties>', ...testCase.properties.map(([name, value]) => `        <property name="${attr(name)}" value="${attr(value)}"/>`), '      </properties>');
      }
      if (outcome.kind === 'skipped') inner.push(`      <skipped message="${attr(outcome.message)}"/>`);
      else if (outcome.kind !== 'passed') inner.push(`      <${outcome.kind} message="${attr(outcome.message)}" type="${outcome.type ?? (outcome.kind === 'failure' ? 'expectation' : 'environment')}">${text(outcome.message)}</${outcome.kind}>`);
      if (testCase.out.length > 0) inner.push(`      <system-out>${text(testCase.out.join('\n'))}</system-out>`);
      lines.push(...(inner.length === 0 ? [`${open}/>`] : [`${open}>`, ...inner, '    </testcase>']));
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** `type`: what failed, for viewers that group by it (default: expectation for a failure, environment for an error). */
type Outcome = { kind: 'passed' } | { kind: 'failure' | 'error' | 'skipped'; message: string; type?: 'finding' };
interface TestCase {
  name: string;
  /**
   * Milliseconds: the row's wall time, on the row's first case only. Its other cases judge the
   * same run, and counting the row once per expectation would make a suite's time (the sum of
   * its cases', as viewers add them up) exceed the run's.
   */
  time: number;
  outcome: Outcome;
  /** Name and value pairs, shared by a row's test cases. */
  properties: [string, string][];
  /** Lines of system-out: the row's warnings, then its faults' observations and commands. */
  out: string[];
}

function casesOf(row: ResultRow, expectations: readonly ExpectationResult[], strict: boolean): TestCase[] {
  const time = row.durationMs ?? 0;
  const mine = expectations.filter((result) => result.strategy === row.strategy && result.scenario === row.scenario && result.status !== 'not-run');
  const skipped = (message: string): Outcome => (strict ? { kind: 'failure', message: `${message} (--strict: a skipped row fails the run)` } : { kind: 'skipped', message });
  const warnings = (row.warnings ?? []).map((warning) => warningLine(row, warning));
  // The user's fault commands that ran (--runtime external), as the other formats show them: a CI log is where they are looked for.
  const faults = (row.metrics?.faults ?? []).flatMap((fault) => faultRowLines(row, fault));
  const shared = { time, properties: rowProperties(row), out: [...warnings, ...faults] };
  const findings = findingCases(row, expectations, shared);
  if (mine.length === 0) {
    const reason = `${row.strategy} × ${row.scenario}: ${row.reason ?? ''}`;
    const invalid = invalidatingWarnings(row).map((warning) => warningLine(row, warning));
    const outcome: Outcome = invalid.length > 0
      ? { kind: 'failure', message: invalid.join('; ') }
      : row.status === 'ok'
        ? { kind: 'passed' }
        : row.status === 'skipped'
          ? skipped(reason)
          : { kind: 'error', message: reason };
    return [{ name: row.scenario, ...shared, outcome }, ...findings];
  }
  const judged = mine.map((result, i): TestCase => ({
    name: `${row.scenario}: ${result.metric} ${result.expected}`,
    ...shared,
    time: i === 0 ? time : 0,
    outcome:
      result.status === 'passed'
        ? { kind: 'passed' }
        : result.status === 'failed'
          ? { kind: 'failure', message: result.message }
          : result.status === 'skipped'
            ? skipped(result.message)
            : { kind: 'error', message: result.message },
  }));
  return [...judged, ...findings];
}

/**
 * A case per security finding of the row, so that CI sees a failed check whether or not a
 * config names it: failed when it failed, skipped when it could not be made (its summary says
 * why), passed with its summary in system-out when it is a fact. A finding an expectation judged
 * is that expectation's case already. The row's time is on its first case, never on these.
 */
function findingCases(row: ResultRow, expectations: readonly ExpectationResult[], shared: Pick<TestCase, 'properties' | 'out'>): TestCase[] {
  const notJudged = findingsNotJudged(row);
  return (row.findings ?? [])
    .filter((finding) => !judgedByExpectation(row, finding.id, expectations))
    .map((finding) => {
      const testCase = { name: `${row.scenario}: finding ${finding.id}`, ...shared, time: 0 };
      if (notJudged !== undefined) return { ...testCase, outcome: { kind: 'skipped', message: `${row.strategy} × ${row.scenario}: finding ${finding.id} not judged: ${notJudged}` } };
      if (isFactFinding(finding)) return { ...testCase, outcome: { kind: 'passed' }, out: [...shared.out, finding.summary] };
      const outcome: Outcome = finding.passed === true ? { kind: 'passed' } : finding.passed === false ? { kind: 'failure', message: finding.summary, type: 'finding' } : { kind: 'skipped', message: finding.summary };
      return { ...testCase, outcome };
    });
}

/** Figures a CI view should see beside the verdict, only where there is something to say. */
function rowProperties(row: ResultRow): [string, string][] {
  const failed = row.metrics?.failedLogins;
  return failed !== undefined && failed > 0 ? [['failedLogins', String(failed)], ['logins', String(row.metrics!.logins)]] : [];
}

function text(value: string): string {
  // XML 1.0 allows no control characters but tab, newline and carriage return.
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}
