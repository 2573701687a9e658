import { ExitCode } from '../platform/errors.js';
import { failedFindings } from '../report/failed-findings.js';
import { rowIsInvalid, type Report } from '../report/model.js';

/**
 * The run's exit code (k6 and knip alike: findings are not crashes):
 *   1 an expectation failed, or (with --strict) a row was skipped, or (with --fail-on-findings) a
 *     security finding failed: a regression to look at;
 *   3 otherwise, a row could not run (a store, engine or port), or ran but its figures measure
 *     nothing of the strategy (an invalidating warning): the run could not judge; such a row's
 *     findings are not judged either;
 *   0 every expectation held.
 */
export function exitCodeFor(report: Pick<Report, 'results' | 'expectations'>, options: { strict: boolean; failOnFindings?: boolean }): number {
  const failed = (report.expectations ?? []).some((result) => result.status === 'failed');
  const skipped = options.strict && report.results.some((row) => row.status === 'skipped');
  const findings = options.failOnFindings === true && failedFindings(report).length > 0;
  if (failed || skipped || findings) return ExitCode.expectationFailed;
  if (report.results.some((row) => row.status === 'error' || rowIsInvalid(row))) return ExitCode.environment;
  return ExitCode.ok;
}
