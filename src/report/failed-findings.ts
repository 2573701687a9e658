import { isFact, isFindingId } from '../driver/findings.js';
import type { Finding } from '../driver/records.js';
import type { ExpectationResult } from './model.js';
import { invalidatingWarnings, type Report, type ResultRow } from './model.js';

/**
 * How a security finding counts in CI: the JUnit test case it becomes, and with
 * --fail-on-findings the exit code. One rule for both, so that the CI view and the exit code
 * never disagree about a finding.
 */

/** A finding with the row that recorded it. */
export interface RowFinding {
  row: ResultRow;
  finding: Finding;
}

/**
 * Why a row's findings are not judged, or undefined when they are. A row whose figures are void
 * (an invalidating warning) or that did not run to its end has findings that measure nothing
 * certain: they neither fail the run nor pass in JUnit, and the row's own verdict (exit 3, its
 * error or failure case) stands for them, as it does for its expectations.
 */
export function findingsNotJudged(row: ResultRow): string | undefined {
  const invalid = invalidatingWarnings(row);
  if (invalid.length > 0) return `the row's figures are invalid: ${invalid.map((warning) => `${warning.id}: ${warning.message}`).join('; ')}`;
  if (row.status === 'ok') return undefined;
  if (row.status === 'interrupted') return `the row did not finish: ${row.reason ?? 'the run was interrupted'}`;
  return `the row ${row.status === 'skipped' ? 'was skipped' : 'failed'}: ${row.reason ?? 'no reason given'}`;
}

/** A fact recorded on every strategy (a stolen cookie works): information, never a check. */
export function isFactFinding(finding: Pick<Finding, 'id' | 'fact'>): boolean {
  return finding.fact === true || (isFindingId(finding.id) && isFact(finding.id));
}

/**
 * Whether an expectation of the config file judged this finding on this row. Its verdict is then
 * the finding's: `finding.logout-invalidates: fail` on `none` says the failure is known and
 * accepted, so the finding fails neither the run nor a JUnit case of its own.
 */
export function judgedByExpectation(row: Pick<ResultRow, 'strategy' | 'scenario'>, id: string, expectations: readonly ExpectationResult[] | undefined): boolean {
  // A result naming this very row stands for its finding whatever its status: an interrupted
  // row's expectations are `not-run` results of their own, and a second case would double them.
  return (expectations ?? []).some((result) => result.strategy === row.strategy && result.scenario === row.scenario && result.metric === `finding.${id}`);
}

/** The findings that fail the run under --fail-on-findings: failed, on a row whose findings are judged, and not left to an expectation. */
export function failedFindings(report: Pick<Report, 'results' | 'expectations'>): RowFinding[] {
  return report.results.flatMap((row) =>
    findingsNotJudged(row) !== undefined
      ? []
      : (row.findings ?? []).filter((finding) => finding.passed === false && !judgedByExpectation(row, finding.id, report.expectations)).map((finding) => ({ row, finding })),
  );
}
