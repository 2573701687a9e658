import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { reportProblems } from './load.js';
import type { Report } from './model.js';

/** A real run's report, saved before rows had warnings or failed logins. */
const load = (): Report => JSON.parse(readFileSync(new URL('../../fixtures/reports/local-none-sticky-redis.json', import.meta.url), 'utf8')) as Report;

describe('the report schema', () => {
  it('reads reports written before warnings and failed logins existed', async () => {
    expect(await reportProblems(load())).toEqual([]);
  });

  it('takes row warnings and the failed logins of a row', async () => {
    const report = load();
    const row = report.results.find((candidate) => candidate.metrics)!;
    row.metrics = { ...row.metrics!, logins: 30, failedLogins: 3 };
    row.warnings = [{ id: 'failed-logins', message: '3/30 logins failed (first: answered 403)' }, { id: 'fail-open', message: 'm', invalid: true }];
    expect(await reportProblems(report)).toEqual([]);
  });

  it('refuses a warning without a message, or a failed-login count that is no count', async () => {
    const report = load();
    const row = report.results.find((candidate) => candidate.metrics)!;
    row.metrics = { ...row.metrics!, logins: 30, failedLogins: -1 };
    row.warnings = [{ id: 'failed-logins' } as never];
    const problems = await reportProblems(report);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/\/warnings\/0: must have required property 'message'/), expect.stringMatching(/\/metrics\/failedLogins: must be >= 0/)]));
  });
});
