import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEMO_PROFILE_DATA, demoProfile } from '../app/profile.js';
import { UsageError } from '../errors.js';
import { compileAppProfile } from './app-profile.js';

const kim = { userId: 'u0001-abc', userNm: 'Kim Minji' };
const lee = { userId: 'u0002-def', userNm: 'Lee Jiho' };

const minimal = {
  name: 'shop',
  cookie: 'SESSION',
  login: { method: 'POST', path: '/auth', form: { user: '{{userId}}', display: '{{userNm}}', remember: true } },
  read: { path: '/me', hit: { json: { '$.user.id': '{{userId}}', '$.user.roles[0]': 'customer' } } },
};

describe('app profiles', () => {
  it('fixtures/apps/demo.yaml is the built-in demo profile', async () => {
    const file: unknown = parseYaml(await readFile(new URL('../../fixtures/apps/demo.yaml', import.meta.url), 'utf8'));
    expect(file).toEqual(DEMO_PROFILE_DATA);
  });

  it('the demo profile sends the Spring controller\'s login and judges reads by both fields', () => {
    expect(demoProfile.login(kim)).toEqual({ method: 'POST', path: '/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify(kim) });
    const body = JSON.stringify({ ...kim, replica: 'replica-1' });
    expect(demoProfile.isHit(200, body, kim)).toBe(true);
    expect(demoProfile.isHit(200, body, lee)).toBe(false);
    expect(demoProfile.isHit(500, body, kim)).toBe(false);
    expect(demoProfile.showsAnyUser(200, body)).toBe(true);
    expect(demoProfile.showsAnyUser(200, JSON.stringify({ userId: null, userNm: null }))).toBe(false);
    expect(demoProfile.counterValue!(200, '{"counter":7}')).toBe(7);
  });

  it('finds the id inside express-session\'s signed, URI-encoded cookie value', () => {
    expect(demoProfile.sessionId('s%3AabcDEF123_-.sig%2Bnature')).toBe('abcDEF123_-');
    expect(compileAppProfile(minimal, 'p.yaml').sessionId('plainid42')).toBe('plainid42');
  });

  it('fills the user\'s fields into a form login and judges JSON paths, nested and indexed', () => {
    const profile = compileAppProfile(minimal, 'p.yaml');
    expect(profile.login(kim)).toEqual({
      method: 'POST',
      path: '/auth',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=u0001-abc&display=Kim+Minji&remember=true',
    });
    expect(profile.read).toEqual({ method: 'GET', path: '/me' });
    const answer = JSON.stringify({ user: { id: kim.userId, roles: ['customer'] } });
    expect(profile.isHit(200, answer, kim)).toBe(true);
    expect(profile.isHit(200, answer, lee)).toBe(false);
    expect(profile.isHit(200, 'not json', kim)).toBe(false);
    expect(profile.showsAnyUser(200, JSON.stringify({ user: { id: '', roles: ['customer'] } }))).toBe(false);
    expect(profile.increment).toBeUndefined();
  });

  it('judges a body by a regular expression with the user\'s fields escaped into it', () => {
    const profile = compileAppProfile({ ...minimal, read: { path: '/', hit: { status: 200, body: '<b>Hello, {{userNm}} \\({{userId}}\\)</b>' } } }, 'p.yaml');
    expect(profile.isHit(200, '<p><b>Hello, Kim Minji (u0001-abc)</b></p>', kim)).toBe(true);
    expect(profile.isHit(200, '<b>Hello, Kim Minji (u0001.abc)</b>', { ...kim, userId: 'u0001.abc' })).toBe(true);
    expect(profile.isHit(200, '<b>Hello, Kim Minji (u0001xabc)</b>', { ...kim, userId: 'u0001.abc' })).toBe(false);
    expect(profile.showsAnyUser(200, '<b>Hello, Somebody (x1)</b>')).toBe(true);
    expect(profile.showsAnyUser(200, '<b>Please log in</b>')).toBe(false);
  });

  it('takes a method in any case, and sends it in upper case', () => {
    const profile = compileAppProfile({ ...minimal, login: { ...minimal.login, method: 'post' }, read: { ...minimal.read, method: 'Get' }, logout: { method: 'delete', path: '/session' } }, 'p.yaml');
    expect(profile.login(kim).method).toBe('POST');
    expect(profile.read.method).toBe('GET');
    expect(profile.logout?.method).toBe('DELETE');
  });

  it.each([
    [{ ...minimal, cookie: 'bad cookie' }, /^p\.yaml: cookie: expected a cookie name/],
    [{ ...minimal, login: { ...minimal.login, method: 'fetch' } }, /^p\.yaml: login\.method: .*"GET"/],
    [{ ...minimal, read: { path: '/me' } }, /^p\.yaml: read\.hit: /],
    [{ ...minimal, read: { path: '/me', hit: { json: { 'user.id': '{{userId}}' } } } }, /^p\.yaml: read\.hit\.json\.user\.id: expected a JSON path such as \$\.user\.id/],
    [{ ...minimal, read: { path: '/me', hit: { json: { $: 'x' }, body: 'x' } } }, /^p\.yaml: read\.hit: give exactly one of json/],
    [{ ...minimal, read: { path: '/me', hit: { body: '([' } } }, /^p\.yaml: read\.hit\.body: not a valid regular expression/],
    [{ ...minimal, login: { path: '/login', json: {}, body: 'x' } }, /^p\.yaml: login: give at most one of json, form and body/],
    [{ ...minimal, login: { path: '/login', body: '{{password}}' } }, /^p\.yaml: login\.body: unknown field \{\{password\}\}; expected \{\{userId\}\}, \{\{userNm\}\}/],
    [{ ...minimal, logout: { path: '/logout/{{userId}}' } }, /^p\.yaml: logout\.path: \{\{userId\}\}: this request is the same for every user/],
    [{ ...minimal, strategies: ['redis', 'memcached'] }, /^p\.yaml: strategies\[1\]: /],
    [{ ...minimal, increment: { method: 'POST', path: '/c' } }, /^p\.yaml: counter: expected a counter request/],
    [{ ...minimal, extra: 1 }, /^p\.yaml: \(top level\): .*extra/],
    [{ ...minimal, read: { path: '/me x', hit: { body: 'x' } } }, /^p\.yaml: read\.path: expected a path without spaces or control characters/],
    [{ ...minimal, login: { path: '/login', headers: { 'x-a': 'one\r\nx-b: two' } } }, /^p\.yaml: login\.headers\.x-a: expected a header value on one line/],
    [{ ...minimal, login: { path: '/login', headers: { 'bad name': 'x' } } }, /^p\.yaml: login\.headers\.bad name: expected a header name/],
  ])('names the file and field of what is wrong (%#)', (data, message) => {
    const attempt = () => compileAppProfile(data, 'p.yaml');
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(message);
  });
});
