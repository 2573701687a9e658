import { describe, expect, it } from 'vitest';
import { sameSiteOk } from './security-cookie-attributes.js';
import { parseSetCookie } from './security-set-cookie.js';

const sameSite = (header: string, crossSite: boolean, https = true) => sameSiteOk(parseSetCookie(header)!, crossSite, https);

describe('SameSite of the session cookie', () => {
  it('Lax and Strict pass, in any case; no SameSite or an unknown value fails', () => {
    expect(sameSite('SID=1; Path=/; SameSite=Lax', false)).toBe(true);
    expect(sameSite('SID=1; Path=/; samesite=strict', false)).toBe(true);
    expect(sameSite('SID=1; Path=/', false)).toBe(false);
    expect(sameSite('SID=1; SameSite=Sometimes', false)).toBe(false);
  });

  it('None fails unless the profile says cross-site use is intended, and then over HTTPS only with Secure (browsers drop it otherwise)', () => {
    expect(sameSite('SID=1; SameSite=None; Secure', false)).toBe(false);
    expect(sameSite('SID=1; SameSite=None; Secure', true)).toBe(true);
    expect(sameSite('SID=1; SameSite=None', true)).toBe(false);
    // Over plain HTTP an app adds Secure only once TLS is in front: None alone is what it should say.
    expect(sameSite('SID=1; SameSite=None', true, false)).toBe(true);
    expect(sameSite('SID=1; SameSite=None', false, false)).toBe(false);
    // Lax stays right for a cookie that could go cross-site.
    expect(sameSite('SID=1; SameSite=Lax', true)).toBe(true);
  });
});
