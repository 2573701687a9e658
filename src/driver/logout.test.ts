import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAppProfile } from '../config/app-profile.js';
import { newJar } from './cookie-memo.js';
import { describeLogouts, logOutSessions } from './logout.js';

describe('logging out the sessions a scenario made', () => {
  let server: http.Server;
  let origin: string;
  const loggedOut: string[] = [];

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const sid = /SID=([^;]+)/.exec(request.headers.cookie ?? '')?.[1] ?? '';
      if (request.method === 'POST' && request.url === '/logout') loggedOut.push(sid);
      // A deployment that never answers: the cleanup must still end.
      if (sid.startsWith('hang')) return;
      response.writeHead(sid === 'broken' ? 500 : 204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const profile = compileAppProfile(
    { name: 'p', cookie: 'SID', login: { method: 'POST', path: '/login' }, read: { path: '/me', hit: { json: { '$.id': '{{userId}}' } } }, logout: { method: 'POST', path: '/logout' } },
    'p.yaml',
  );
  const jarWith = (cookie: string | undefined) => {
    const jar = newJar();
    if (cookie) jar.setCookieSync(cookie, origin);
    return jar;
  };

  it('logs each session out once, whichever jars hold it, and counts the logouts that failed', async () => {
    loggedOut.length = 0;
    const jars = [jarWith('SID=a; Path=/'), jarWith('SID=a; Path=/'), jarWith('SID=b; Path=/'), jarWith('OTHER=x; Path=/'), jarWith(undefined), jarWith('SID=broken; Path=/')];
    const result = await logOutSessions({ origin, profile, jars, concurrency: 2, requestTimeoutMs: 2_000, signal: new AbortController().signal });
    expect(loggedOut.sort()).toEqual(['a', 'b', 'broken']);
    expect(result).toMatchObject({ sessions: 3, sent: 3, failed: 1 });
    expect(describeLogouts(result)).toBe('logged out 2 of 3 sessions hactl made; 1 logouts failed');
  });

  it('ends by its deadline when the deployment does not answer, saying how many were never sent', async () => {
    const jars = ['hang1', 'hang2', 'hang3', 'hang4', 'hang5'].map((sid) => jarWith(`SID=${sid}; Path=/`));
    const started = Date.now();
    const result = await logOutSessions({ origin, profile, jars, concurrency: 1, requestTimeoutMs: 150, signal: new AbortController().signal });
    // Two request timeouts' worth: one or two logouts started (and failed), the rest never sent.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result).toMatchObject({ sessions: 5, unsent: "the cleanup's deadline of 300 ms passed" });
    expect(result.sent).toBeGreaterThanOrEqual(1);
    expect(result.sent).toBeLessThanOrEqual(3);
    expect(result.failed).toBe(result.sent);
    expect(describeLogouts(result)).toBe(`logged out 0 of 5 sessions hactl made; ${result.sent} logouts failed; ${5 - result.sent} not sent (the cleanup's deadline of 300 ms passed)`);
  });

  it('sends nothing when no jar holds a session', async () => {
    loggedOut.length = 0;
    const result = await logOutSessions({ origin, profile, jars: [jarWith(undefined)], concurrency: 2, requestTimeoutMs: 2_000, signal: new AbortController().signal });
    expect(result).toMatchObject({ sessions: 0, sent: 0, failed: 0 });
    expect(loggedOut).toEqual([]);
  });

  it('sends nothing once the run is being stopped, and does not throw', async () => {
    loggedOut.length = 0;
    const stop = new AbortController();
    stop.abort(new Error('SIGINT'));
    const result = await logOutSessions({ origin, profile, jars: [jarWith('SID=c; Path=/')], concurrency: 2, requestTimeoutMs: 2_000, signal: stop.signal });
    expect(result).toMatchObject({ sessions: 1, sent: 0 });
    expect(result.unsent).toBeUndefined();
    expect(loggedOut).toEqual([]);
  });
});
