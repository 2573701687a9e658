import { failedFindings } from './failed-findings.js';
import type { Report } from './model.js';

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
    for (const result of results) {
      if (result.status === 'passed') continue;
      const label = { failed: 'FAIL', skipped: 'SKIP', error: 'ERROR', 'not-run': 'NOT RUN' }[result.status];
      lines.push(`  ${label} ${result.message}`);
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
