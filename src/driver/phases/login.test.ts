import { describe, expect, it } from 'vitest';
import { newJar, storeSetCookies } from '../cookie-memo.js';
import type { Exchange } from '../driver.js';
import { judgeLogin } from './login.js';

const loginUrl = new URL('http://127.0.0.1:8080/login');
const readUrl = new URL('http://127.0.0.1:8080/me');

/** What the driver does with an answer: store its cookies in the user's jar, then judge the login. */
function judge(status: number, setCookies: string[], body = '', error?: string) {
  const jar = newJar();
  storeSetCookies(jar, loginUrl, setCookies);
  const exchange: Exchange = { status, body, replica: 'replica-1', setCookies, headers: [], ...(error ? { error } : {}) };
  return judgeLogin(7, 12.5, { exchanges: [], last: exchange, lastStep: exchange }, jar, readUrl, 'SID');
}

describe('a login', () => {
  it('works when answered 2xx with the session cookie', () => {
    expect(judge(200, ['SID=abc; Path=/; HttpOnly'])).toEqual({ user: 7, end: 12.5, status: 200 });
  });

  it('works when answered 302 with the session cookie: redirect after POST', () => {
    expect(judge(302, ['SID=abc; Path=/; HttpOnly'])).toEqual({ user: 7, end: 12.5, status: 302 });
  });

  it('fails when answered 4xx or 5xx, even with a cookie, keeping the start of the body', () => {
    const forbidden = judge(403, ['SID=abc; Path=/'], `CSRF token missing${'.'.repeat(500)}`);
    expect(forbidden).toMatchObject({ status: 403, failure: 'answered 403' });
    expect(forbidden.body).toHaveLength(200);
    expect(judge(500, [], 'boom')).toMatchObject({ failure: 'answered 500', body: 'boom' });
  });

  it('fails without an answer', () => {
    expect(judge(0, [], '', 'ECONNREFUSED')).toEqual({ user: 7, end: 12.5, status: 0, failure: 'no answer (ECONNREFUSED)' });
  });

  it("fails when answered without the profile's cookie, another cookie notwithstanding", () => {
    expect(judge(200, ['JSESSIONID=abc; Path=/'], 'welcome')).toMatchObject({ failure: 'answered 200 without a SID cookie', body: 'welcome' });
  });

  it('fails when the cookie was offered but the browser rules keep it from the read', () => {
    expect(judge(302, ['SID=abc; Path=/login'])).toMatchObject({ failure: expect.stringMatching(/^answered 302 with a SID cookie that the browser rules did not keep for \/me/) });
  });
});
