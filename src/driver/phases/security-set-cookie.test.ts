import { describe, expect, it } from 'vitest';
import { parseSetCookie, redactSetCookie } from './security-set-cookie.js';

describe('parseSetCookie', () => {
  it("reads express-session's header: name, value, flags and valued attributes in lower case", () => {
    const parsed = parseSetCookie('JSESSIONID=s%3Aabc.def; Path=/; Expires=Mon, 30 Nov 2026 03:51:19 GMT; HttpOnly; SameSite=Lax');
    expect(parsed).toMatchObject({ name: 'JSESSIONID', value: 's%3Aabc.def' });
    expect([...parsed!.attributes]).toEqual([
      ['path', '/'],
      ['expires', 'Mon, 30 Nov 2026 03:51:19 GMT'],
      ['httponly', ''],
      ['samesite', 'Lax'],
    ]);
  });

  it('reports only what was sent: no defaults for an omitted Path or SameSite', () => {
    const parsed = parseSetCookie('sid=1; domain=.example.com;secure');
    expect(parsed!.attributes.has('path')).toBe(false);
    expect(parsed!.attributes.has('samesite')).toBe(false);
    expect(parsed!.attributes.get('domain')).toBe('.example.com');
    expect(parsed!.attributes.has('secure')).toBe(true);
  });

  it('keeps = inside a value, and rejects a header without a name', () => {
    expect(parseSetCookie('t=a=b==; Path=/')).toMatchObject({ name: 't', value: 'a=b==' });
    expect(parseSetCookie('=x; Path=/')).toBeUndefined();
    expect(parseSetCookie('garbage')).toBeUndefined();
  });
});

describe('redactSetCookie', () => {
  it('elides the value and keeps the attributes', () => {
    expect(redactSetCookie('JSESSIONID=s%3Aabc.def; Path=/; HttpOnly')).toBe('JSESSIONID=…; Path=/; HttpOnly');
    expect(redactSetCookie('sid=secret')).toBe('sid=…');
  });
});
