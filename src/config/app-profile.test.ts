import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEMO_PROFILE_DATA, demoProfile } from './demo-profile.js';
import { UsageError } from '../platform/errors.js';
import { compileAppProfile } from './app-profile.js';
import { hasRequest } from '../driver/app-profile.js';

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
    expect(demoProfile.login[0]!.request(kim)).toEqual({ method: 'POST', path: '/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify(kim) });
    const body = JSON.stringify({ ...kim, replica: 'replica-1' });
    expect(demoProfile.isHit(200, body, kim)).toBe(true);
    expect(demoProfile.isHit(200, body, lee)).toBe(false);
    expect(demoProfile.isHit(500, body, kim)).toBe(false);
    expect(demoProfile.showsAnyUser(200, body)).toBe(true);
    expect(demoProfile.showsAnyUser(200, JSON.stringify({ userId: null, userNm: null }))).toBe(false);
    expect(demoProfile.counterValue!(200, '{"counter":7}')).toBe(7);
  });

  it('reads the counter through the replica with readReplica: a number, or undefined for no session there or an error', () => {
    expect(demoProfile.readReplica).toEqual({ method: 'GET', path: '/counter/replica' });
    expect(demoProfile.replicaCounterValue!(200, '{"counter":3,"userId":"u1"}')).toBe(3);
    expect(demoProfile.replicaCounterValue!(200, '{"counter":null,"userId":null}')).toBeUndefined();
    expect(demoProfile.replicaCounterValue!(404, '{"counter":3}')).toBeUndefined();
    expect(hasRequest(demoProfile, 'readReplica')).toBe(true);
    expect(hasRequest(compileAppProfile(minimal, 'p.yaml'), 'readReplica')).toBe(false);
  });

  it('compiles a replica source into how answers name replicas; without one, hactl\'s balancer\'s tag', () => {
    expect(compileAppProfile(minimal, 'p.yaml').replica).toBeUndefined();
    const profile = compileAppProfile({ ...minimal, replica: { header: 'X-Upstream', pattern: ':(\\d+)$', names: { 18081: 'web-1', 18082: 2 } } }, 'p.yaml');
    expect(profile.replica).toMatchObject({ header: 'x-upstream', fromProfile: true });
    expect(profile.replica!.name(200, '127.0.0.1:18080, 127.0.0.1:18081', 1, '', [])).toBe('web-1');
    expect(profile.replica!.name(200, '127.0.0.1:18082', 1, '', [])).toBe('2');
    expect(profile.replica!.name(502, '127.0.0.1:18082', 1, '', [])).toBeNull();
    const json = compileAppProfile({ ...minimal, replica: { json: '$.replica' } }, 'p.yaml');
    expect(json.replica!.name(200, null, 0, '{"replica":"replica-2"}', [])).toBe('replica-2');
  });

  it('says whether the session cookie is meant for cross-site use (SameSite=None then passes); a non-boolean is refused', () => {
    expect(compileAppProfile(minimal, 'p.yaml').crossSiteCookie).toBeUndefined();
    expect(compileAppProfile({ ...minimal, crossSiteCookie: true }, 'p.yaml').crossSiteCookie).toBe(true);
    expect(() => compileAppProfile({ ...minimal, crossSiteCookie: 'yes' }, 'p.yaml')).toThrow(/p\.yaml: crossSiteCookie: .*boolean/);
  });

  it('finds the id inside express-session\'s signed, URI-encoded cookie value', () => {
    expect(demoProfile.sessionId('s%3AabcDEF123_-.sig%2Bnature')).toBe('abcDEF123_-');
    expect(compileAppProfile(minimal, 'p.yaml').sessionId('plainid42')).toBe('plainid42');
  });

  it('fills the user\'s fields into a form login and judges JSON paths, nested and indexed', () => {
    const profile = compileAppProfile(minimal, 'p.yaml');
    expect(profile.login[0]!.request(kim)).toEqual({
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
    expect(profile.login[0]!.request(kim).method).toBe('POST');
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
    [{ ...minimal, replica: {} }, /^p\.yaml: replica: give exactly one of header \(a response header\), json \(a JSON path into the body\) and cookie/],
    [{ ...minimal, replica: { header: 'X-Upstream', cookie: 'SERVERID' } }, /^p\.yaml: replica: give exactly one of header/],
    [{ ...minimal, replica: { header: 'X Upstream' } }, /^p\.yaml: replica\.header: expected a header name \(letters, digits/],
    [{ ...minimal, replica: { header: 'Set-Cookie' } }, /^p\.yaml: replica\.header: expected a header other than Set-Cookie \(.*cookie: NAME\)/],
    [{ ...minimal, replica: { cookie: 'SERVER;ID' } }, /^p\.yaml: replica\.cookie: expected a cookie name/],
    [{ ...minimal, replica: { json: 'served.by' } }, /^p\.yaml: replica\.json: expected a JSON path such as \$\.user\.id/],
    [{ ...minimal, replica: { header: 'X-Upstream', pattern: ':(\\d+' } }, /^p\.yaml: replica\.pattern: not a valid regular expression/],
    [{ ...minimal, replica: { header: 'X-Upstream', pattern: '(\\w+):(\\d+)' } }, /^p\.yaml: replica\.pattern: expected a regular expression with at most one group .* got 2 groups/],
    [{ ...minimal, replica: { header: 'X-Upstream', names: { a: '' } } }, /^p\.yaml: replica\.names\.a: expected a non-empty name/],
    [{ ...minimal, replica: { header: 'X-Upstream', hop: 'last' } }, /^p\.yaml: replica: .*hop/],
  ])('names the file and field of what is wrong (%#)', (data, message) => {
    const attempt = () => compileAppProfile(data, 'p.yaml');
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(message);
  });

  describe('login steps and captures', () => {
    const steps = {
      ...minimal,
      login: [
        { path: '/login', capture: { csrf: { cookie: 'csrftoken' }, form: { body: 'name="_csrf" value="([^"]+)"' } } },
        { method: 'POST', path: '/login', form: { _csrf: '{{form}}', user: '{{userId}}' }, headers: { 'X-CSRFToken': '{{csrf}}' }, redirect: 'follow', capture: { csrf: { header: 'X-CSRF-Token' }, token: { json: '$.token' } } },
      ],
      logout: { method: 'POST', path: '/logout', form: { _csrf: '{{csrf}}' } },
      increment: { method: 'POST', path: '/counter', headers: { Authorization: 'Bearer {{token}}' } },
      counter: { path: '/counter', value: '$.n' },
    };

    it('keeps a one-request login as one step that accepts a redirect, capturing nothing', () => {
      const [step, ...more] = compileAppProfile(minimal, 'p.yaml').login;
      expect(more).toEqual([]);
      expect(step).toMatchObject({ redirect: 'accept', captures: [] });
    });

    it('fills each step with the user\'s fields and what earlier steps captured; other requests with what the login captured, per user as they are sent', () => {
      const profile = compileAppProfile(steps, 'p.yaml');
      expect(profile.login.map((step) => step.redirect)).toEqual(['refuse', 'follow']);
      expect(profile.login[1]!.request({ ...kim, csrf: 'c1', form: 'f1' })).toEqual({
        method: 'POST',
        path: '/login',
        headers: { 'x-csrftoken': 'c1', 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=f1&user=${kim.userId}`,
      });
      expect(profile.logout).toMatchObject({ method: 'POST', path: '/logout', body: '_csrf=%7B%7Bcsrf%7D%7D' });
      expect(profile.logout!.fill!({ csrf: 'c2' })).toEqual({ method: 'POST', path: '/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=c2' });
      // A browser whose login captured nothing (a copied cookie) sends the field empty, not as written.
      expect(profile.logout!.fill!({}).body).toBe('_csrf=');
      expect(profile.increment!.fill!({ token: 't' }).headers).toEqual({ authorization: 'Bearer t' });
      // Requests that use no captured value are sent as they are.
      expect(profile.read.fill).toBeUndefined();
      expect(profile.counter!.fill).toBeUndefined();
    });

    it('reads a cookie (the answer\'s own, else the browser\'s), a header, a JSON path and a body match', () => {
      const [first, second] = compileAppProfile(steps, 'p.yaml').login;
      const answer = (over: object) => ({ body: '', headers: [], setCookies: [], ...over });
      const [csrf, form] = first!.captures;
      expect(csrf!.read(answer({ setCookies: ['other=1', 'csrftoken=abc; Path=/'] }), new Map([['csrftoken', 'old']]))).toBe('abc');
      expect(csrf!.read(answer({}), new Map([['csrftoken', 'held']]))).toBe('held');
      expect(csrf!.read(answer({}), new Map())).toBeUndefined();
      expect(form!.read(answer({ body: '<input name="_csrf" value="t-1">' }), new Map())).toBe('t-1');
      expect(form!.read(answer({ body: '<p>no form</p>' }), new Map())).toBeUndefined();
      const [header, token] = second!.captures;
      expect(header!.read(answer({ headers: [['x-csrf-token', 'h1']] }), new Map())).toBe('h1');
      expect(token!.read(answer({ body: '{"token":"j1"}' }), new Map())).toBe('j1');
      expect(token!.read(answer({ body: 'not json' }), new Map())).toBeUndefined();
      expect(header!.from).toBe('a X-CSRF-Token header');
    });

    it.each([
      [{ login: [{ path: '/login', form: { t: '{{csrf}}' } }, { path: '/x', capture: { csrf: { cookie: 'c' } } }] }, /^p\.yaml: login\[0\]\.form\.t: unknown field \{\{csrf\}\}; expected \{\{userId\}\}, \{\{userNm\}\}$/],
      [{ login: [{ path: '/login', capture: { csrf: { body: 'value="[^"]+"' } } }] }, /^p\.yaml: login\[0\]\.capture\.csrf\.body: expected a regular expression with exactly one group, the value to capture \(got 0\)/],
      [{ login: [{ path: '/login', capture: { csrf: { body: '(a)(b)' } } }] }, /^p\.yaml: login\[0\]\.capture\.csrf\.body: expected a regular expression with exactly one group.*\(got 2\)/],
      [{ login: [{ path: '/login', capture: { csrf: { body: '(' } } }] }, /^p\.yaml: login\[0\]\.capture\.csrf\.body: not a valid regular expression/],
      [{ login: [{ path: '/login', capture: { csrf: { cookie: 'a', header: 'b' } } }] }, /^p\.yaml: login\[0\]\.capture\.csrf: give exactly one of cookie .*, header .*, json .* and body/],
      [{ login: [{ path: '/login', capture: { csrf: { json: 'token' } } }] }, /^p\.yaml: login\[0\]\.capture\.csrf\.json: expected a JSON path/],
      [{ login: [{ path: '/login', capture: { csrf: { header: 'Set-Cookie' } } }] }, /^p\.yaml: login\[0\]\.capture\.csrf\.header: expected a header other than Set-Cookie/],
      [{ login: [{ path: '/login', capture: { userId: { cookie: 'c' } } }] }, /^p\.yaml: login\[0\]\.capture\.userId: \{\{userId\}\} is already the user's own field/],
      [{ login: [{ path: '/login', capture: { 'csrf-token': { cookie: 'c' } } }] }, /^p\.yaml: login\[0\]\.capture\.csrf-token: expected a capture name of letters and digits/],
      [{ login: [{ path: '/login', redirect: 'maybe' }] }, /^p\.yaml: login\[0\]\.redirect: /],
      [{ login: [] }, /^p\.yaml: login: expected at least one login step$/],
      [{ login: [{ path: '/login', capture: { csrf: { cookie: 'c' } } }], logout: { path: '/logout', headers: { 'X-T': '{{xsrf}}' } } }, /^p\.yaml: logout\.headers\.X-T: unknown field \{\{xsrf\}\}; expected \{\{csrf\}\} \(values the login captures/],
      [{ logout: { path: '/logout', form: { t: '{{csrf}}' } } }, /^p\.yaml: logout\.form\.t: \{\{csrf\}\}: this request is the same for every user and takes no fields \(only values a login step captures/],
      [{ login: [{ path: '/login', capture: { csrf: { cookie: 'c' } } }], read: { path: '/me', hit: { body: '{{csrf}}' } } }, /^p\.yaml: read\.hit\.body: unknown field \{\{csrf\}\}/],
    ])('refuses a mistake in the steps with one line naming it (%#)', (data, message) => {
      const attempt = () => compileAppProfile({ ...minimal, ...data }, 'p.yaml');
      expect(attempt).toThrow(UsageError);
      expect(attempt).toThrow(message);
      expect(() => compileAppProfile({ ...minimal, ...data }, 'p.yaml')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('\n') }));
    });
  });

  it('every example profile in fixtures/apps loads', async () => {
    const { loadAppProfile } = await import('./app-profile.js');
    const { readdir } = await import('node:fs/promises');
    const dir = new URL('../../fixtures/apps/', import.meta.url);
    const files = (await readdir(dir)).filter((file) => file.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['django.yaml', 'rails.yaml', 'spring-security.yaml', 'form-login.yaml']));
    for (const file of files) {
      // pyapp-broken.yaml is broken on purpose only at run time (its app), not as a profile.
      const profile = await loadAppProfile(new URL(file, dir).pathname);
      expect(profile.login.length, file).toBeGreaterThan(0);
    }
  });
});

