import { describe, expect, it } from 'vitest';
import { compileAppProfile } from '../config/app-profile.js';
import { capturedValues, requestFor } from './captures.js';
import { newJar, storeSetCookies } from './cookie-memo.js';
import type { HttpRequest } from './app-profile.js';
import type { Exchange } from './driver.js';
import { logIn, MAX_REDIRECTS } from './login-flow.js';

const ORIGIN = 'http://127.0.0.1:8080';
const kim = { userId: 'u0001-abc', userNm: 'Kim Minji' };
const read = { path: '/me', hit: { json: { '$.id': '{{userId}}' } } };

type Answer = Partial<Exchange> & { status: number };

/** Answers in order, each stored in the jar as the driver stores it; records what was sent. */
function script(jar: ReturnType<typeof newJar>, answers: Answer[]) {
  const sent: HttpRequest[] = [];
  const send = async (request: HttpRequest): Promise<Exchange> => {
    sent.push(request);
    const answer: Exchange = { body: '', replica: 'replica-1', setCookies: [], headers: [], ...answers[sent.length - 1]! };
    storeSetCookies(jar, new URL(request.path, ORIGIN), answer.setCookies);
    return answer;
  };
  return { sent, send };
}

const csrfProfile = (redirect: string, more: object = {}) =>
  compileAppProfile(
    {
      name: 'shop',
      cookie: 'SID',
      login: [
        { path: '/login', capture: { csrf: { body: 'name="t" value="([^"]+)"' } } },
        { method: 'POST', path: '/login', form: { t: '{{csrf}}', user: '{{userId}}' }, redirect, ...more },
      ],
      read,
      logout: { method: 'POST', path: '/logout', headers: { 'X-T': '{{csrf}}' } },
    },
    'p.yaml',
  );

describe('a login of several steps', () => {
  it('sends what the login page gave in the form, and keeps it with the browser for the logout', async () => {
    const profile = csrfProfile('accept');
    const jar = newJar();
    const { sent, send } = script(jar, [{ status: 200, body: '<input name="t" value="tok1">' }, { status: 302, setCookies: ['SID=s1; Path=/'], headers: [['location', '/home']] }]);
    const attempt = await logIn(profile.login, kim, jar, ORIGIN, send);
    expect(attempt.failure).toBeUndefined();
    expect(sent.map((request) => `${request.method} ${request.path} ${request.body ?? ''}`)).toEqual(['GET /login ', `POST /login t=tok1&user=${kim.userId}`]);
    expect(attempt.last.status).toBe(302);
    expect(capturedValues(jar)).toEqual({ csrf: 'tok1' });
    expect(requestFor(jar, profile.logout!).headers).toEqual({ 'x-t': 'tok1' });
    // Another browser (a copied cookie) holds no token.
    expect(requestFor(newJar(), profile.logout!).headers).toEqual({ 'x-t': '' });
  });

  it('fails a step that redirects where it does not say so, naming the step and the fix', async () => {
    const jar = newJar();
    const { send } = script(jar, [{ status: 200, body: 'name="t" value="x"' }, { status: 302, headers: [['location', '/login?error']] }]);
    const attempt = await logIn(csrfProfile('refuse').login, kim, jar, ORIGIN, send);
    expect(attempt.failure).toBe('step 2 (POST /login) answered 302 to /login?error, a redirect the step does not accept (redirect: accept or follow)');
  });

  it('follows redirects on its own origin only, with GET, and captures from where they end', async () => {
    const profile = csrfProfile('follow', { capture: { after: { body: 'token=(\\w+)' } } });
    const jar = newJar();
    const { sent, send } = script(jar, [
      { status: 200, body: 'name="t" value="x"' },
      { status: 303, headers: [['location', '/home?x=1']], setCookies: ['SID=s; Path=/'] },
      { status: 302, headers: [['location', 'http://127.0.0.1:8080/dash']] },
      { status: 200, body: 'token=fresh' },
    ]);
    const attempt = await logIn(profile.login, kim, jar, ORIGIN, send);
    expect(attempt.failure).toBeUndefined();
    expect(sent.slice(2)).toEqual([{ method: 'GET', path: '/home?x=1' }, { method: 'GET', path: '/dash' }]);
    expect(attempt.lastStep.status).toBe(303);
    expect(attempt.last.status).toBe(200);
    expect(capturedValues(jar)).toEqual({ csrf: 'x', after: 'fresh' });

    const elsewhere = script(newJar(), [{ status: 200, body: 'name="t" value="x"' }, { status: 302, headers: [['location', 'https://sso.example.com/login']] }]);
    expect((await logIn(profile.login, kim, newJar(), ORIGIN, elsewhere.send)).failure).toBe(
      'step 2 (POST /login) was redirected to https://sso.example.com, not the app under test: hactl follows redirects on its own origin only',
    );
    const loop = script(newJar(), [{ status: 200, body: 'name="t" value="x"' }, ...Array.from({ length: MAX_REDIRECTS + 1 }, () => ({ status: 302, headers: [['location', '/again']] as [string, string][] }))]);
    expect((await logIn(profile.login, kim, newJar(), ORIGIN, loop.send)).failure).toBe(`step 2 (POST /login) was redirected more than ${MAX_REDIRECTS} times (last to /again)`);
    expect(loop.sent).toHaveLength(2 + MAX_REDIRECTS);
  });

  it('fails where a capture finds nothing or a step is refused, sending no later step', async () => {
    const jar = newJar();
    const missing = script(jar, [{ status: 200, body: '<p>maintenance</p>' }]);
    const attempt = await logIn(csrfProfile('accept').login, kim, jar, ORIGIN, missing.send);
    expect(attempt.failure).toBe('step 1 (GET /login) answered 200 without a match of /name="t" value="([^"]+)"/ in the body to capture as {{csrf}}');
    expect(missing.sent).toHaveLength(1);
    const refused = script(newJar(), [{ status: 200, body: 'name="t" value="x"' }, { status: 403, body: 'CSRF' }]);
    expect((await logIn(csrfProfile('accept').login, kim, newJar(), ORIGIN, refused.send)).failure).toBe('step 2 (POST /login) answered 403');
    const silent = script(newJar(), [{ status: 0, error: 'ECONNREFUSED' }]);
    expect((await logIn(csrfProfile('accept').login, kim, newJar(), ORIGIN, silent.send)).failure).toBe('step 1 (GET /login) no answer (ECONNREFUSED)');
  });

  it('leaves a one-request login as it was: its answer judged by the login phase, its 302 accepted', async () => {
    const profile = compileAppProfile({ name: 'shop', cookie: 'SID', login: { method: 'POST', path: '/login', form: { u: '{{userId}}' } }, read }, 'p.yaml');
    const jar = newJar();
    const { sent, send } = script(jar, [{ status: 302, headers: [['location', '/me']], setCookies: ['SID=1; Path=/'] }]);
    const attempt = await logIn(profile.login, kim, jar, ORIGIN, send);
    expect(attempt).toMatchObject({ last: { status: 302 } });
    expect(attempt.failure).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(capturedValues(jar)).toEqual({});
    const forbidden = script(newJar(), [{ status: 403 }]);
    expect((await logIn(profile.login, kim, newJar(), ORIGIN, forbidden.send)).failure).toBe('answered 403');
  });
});
