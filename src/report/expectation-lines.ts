import { failedFindings } from './failed-findings.js';
import type { ExpectationResult, Report } from './model.js';

/**
 * What a CI log should say about the expectations: a tally, then one line per expectation that
 * did not hold or could not be judged, naming the figure, what it was and what was expected; then
 * what else fails the run by the user's choice (--strict, --fail-on-findings), naming the rows.
 */
export function expectationLines(report: Pick<Report, 'expectations' | 'results' | 'settings'>): string[] {
  const lines: string[] = [];
  const results = report.expectations ?? [];
  if (results.length > 0) {
    const tally = (['passed', 'failed', 'skipped', 'error', 'not-run'] as const)
      .map((status) => [status, results.filter((result) => result.status === status).length] as const)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => `${n} ${status}`);
    lines.push(`expectations: ${tally.join(', ')}`);
    const unjudged = notRunGroups(results);
    for (const result of results) {
      if (result.status === 'passed') continue;
      const label = { failed: 'FAIL', skipped: 'SKIP', error: 'ERROR', 'not-run': 'NOT RUN' }[result.status];
      const group = unjudged.get(result);
      if (group === undefined) lines.push(`  ${label} ${result.message}`);
      else if (group[0] === result) {
        const figures = group.map((member) => `${member.metric} ${member.expected}`).join(', ');
        lines.push(`  ${label} ${result.strategy} × ${result.scenario}: ${figures} not judged: ${result.message}`);
      }
    }
  }
  if (report.settings.strict) {
    const skipped = report.results.filter((row) => row.status === 'skipped');
    const one = skipped.length === 1;
    if (skipped.length > 0) lines.push(`--strict: ${skipped.length} skipped ${one ? 'row fails' : 'rows fail'} the run (${skipped.map((row) => `${row.strategy} × ${row.scenario}`).join(', ')})`);
  }
  if (report.settings.failOnFindings) {
    const failed = failedFindings(report);
    const one = failed.length === 1;
    if (failed.length > 0) lines.push(`--fail-on-findings: ${failed.length} failed ${one ? 'finding fails' : 'findings fail'} the run (${failed.map(({ row, finding }) => `${row.strategy} × ${row.scenario}: ${finding.id}`).join(', ')})`);
  }
  return lines;
}

/**
 * The expectations that could not be judged for a reason that does not name their figure (`redis ×
 * login-read was not part of this run`), grouped by strategy, scenario and reason: one line per
 * group names every figure, where a line each would print the same words several times and name
 * none of them.
 */
function notRunGroups(results: readonly ExpectationResult[]): Map<ExpectationResult, ExpectationResult[]> {
  const groups = new Map<string, ExpectationResult[]>();
  for (const result of results) {
    if (result.status !== 'not-run' || result.message.includes(result.metric)) continue;
    const key = JSON.stringify([result.strategy, result.scenario, result.message]);
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  return new Map([...groups.values()].flatMap((group) => group.map((result) => [result, group] as const)));
}
