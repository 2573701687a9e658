import { ExitCode } from '../errors.js';
import { rowIsInvalid, type Report } from '../report/model.js';

/**
 * The run's exit code (k6 and knip alike: findings are not crashes):
 *   1 an expectation failed, or (with --strict) a row was skipped: a regression to look at;
 *   3 otherwise, a row could not run (a store, engine or port), or ran but its figures measure
 *     nothing of the strategy (an invalidating warning): the run could not judge;
 *   0 every expectation held.
 */
export function exitCodeFor(report: Pick<Report, 'results' | 'expectations'>, options: { strict: boolean }): number {
  const failed = (report.expectations ?? []).some((result) => result.status === 'failed');
  const skipped = options.strict && report.results.some((row) => row.status === 'skipped');
  if (failed || skipped) return ExitCode.expectationFailed;
  if (report.results.some((row) => row.status === 'error' || rowIsInvalid(row))) return ExitCode.environment;
  return ExitCode.ok;
}
