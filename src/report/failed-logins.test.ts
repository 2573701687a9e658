import { describe, expect, it } from 'vitest';
import type { LoginRecord } from '../driver/records.js';
import { failedLoginsWarning } from './failed-logins.js';

const ok = (user: number): LoginRecord => ({ user, end: user, status: 302 });
const refused = (user: number): LoginRecord => ({ user, end: user, status: 403, failure: 'answered 403', body: '<h1>Forbidden</h1>\n<p>CSRF token missing</p>' });

describe('the failed-logins warning', () => {
  it('is absent when every login worked', () => {
    expect(failedLoginsWarning([ok(0), ok(1)])).toBeUndefined();
    expect(failedLoginsWarning([])).toBeUndefined();
  });

  it('quotes the status and the start of the body, and does not invalidate a row where few logins failed', () => {
    expect(failedLoginsWarning([ok(0), refused(1), ok(2)])).toEqual({
      id: 'failed-logins',
      message:
        '1/3 logins failed (first: answered 403: "<h1>Forbidden</h1> | <p>CSRF token missing</p>"): those users never had a session, so their reads count in neither hit rate nor session loss',
    });
  });

  it('invalidates the row when more than half failed, not at exactly half', () => {
    expect(failedLoginsWarning([ok(0), refused(1)])?.invalid).toBeUndefined();
    const warning = failedLoginsWarning([ok(0), refused(1), refused(2)]);
    expect(warning).toMatchObject({ id: 'failed-logins', invalid: true });
    expect(warning?.message).toMatch(/^2\/3 logins failed .*: most users never had a session, so the row measures the login, not the session strategy/);
  });

  it('says when no answer came, with no body to quote', () => {
    expect(failedLoginsWarning([{ user: 0, end: 1, status: 0, failure: 'no answer (timeout)' }])?.message).toMatch(/^1\/1 logins failed \(first: no answer \(timeout\)\):/);
  });
});
