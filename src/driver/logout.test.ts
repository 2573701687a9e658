import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileAppProfile } from '../config/app-profile.js';
import { newJar } from './cookie-memo.js';
import { describeLogouts, LOGOUT_DEADLINE_MAX_MS, logoutDeadlineMs, logOutSessions, sessionsLeftWarning } from './logout.js';

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
      // A deployment 200 ms away.
      if (sid.startsWith('slow')) return void setTimeout(() => response.writeHead(204).end(), 200);
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

  it('ends by its deadline when the deployment does not answer, and the row is told how many sessions were left', async () => {
    const jars = ['hang1', 'hang2', 'hang3', 'hang4', 'hang5'].map((sid) => jarWith(`SID=${sid}; Path=/`));
    const started = Date.now();
    const result = await logOutSessions({ origin, profile, jars, concurrency: 1, requestTimeoutMs: 150, signal: new AbortController().signal });
    // One request timeout per logout (concurrency 1), and one more: every logout is tried, and times out.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({ sessions: 5, sent: 5, failed: 5 });
    expect(describeLogouts(result)).toBe('logged out 0 of 5 sessions hactl made; 5 logouts failed');
    expect(sessionsLeftWarning(result)).toEqual({ id: 'sessions-left', message: '5 of 5 sessions hactl made are still logged in on the deployment: 5 logouts failed' });
  });

  it('gives a slow deployment time for every session: the deadline grows with the sessions to log out', async () => {
    loggedOut.length = 0;
    const sids = Array.from({ length: 30 }, (_, i) => `slow${i}`);
    const started = Date.now();
    // 15 waves of 200 ms: 3 s, more than two request timeouts (the old deadline, which left half of them).
    const result = await logOutSessions({ origin, profile, jars: sids.map((sid) => jarWith(`SID=${sid}; Path=/`)), concurrency: 2, requestTimeoutMs: 1_000, signal: new AbortController().signal });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    expect(result).toMatchObject({ sessions: 30, sent: 30, failed: 0 });
    expect(result.unsent).toBeUndefined();
    expect(loggedOut.sort()).toEqual([...sids].sort());
    expect(sessionsLeftWarning(result)).toBeUndefined();
  }, 20_000);

  it('bounds the deadline by the waves of logouts, the rate, and five minutes', () => {
    expect(logoutDeadlineMs(1_100, 10, 5_000)).toBe(LOGOUT_DEADLINE_MAX_MS);
    expect(logoutDeadlineMs(30, 2, 1_000)).toBe(16_000);
    expect(logoutDeadlineMs(30, 2, 1_000, 10)).toBe(19_000);
    expect(logoutDeadlineMs(1, 8, 2_000)).toBe(4_000);
  });

  it('says sessions never sent on the row, with why', () => {
    const warning = sessionsLeftWarning({ sessions: 1_100, sent: 990, failed: 3, unsent: "the cleanup's deadline of 300000 ms passed", ms: 300_000 });
    expect(warning).toEqual({
      id: 'sessions-left',
      message: "113 of 1100 sessions hactl made are still logged in on the deployment: 3 logouts failed; 110 were never sent (the cleanup's deadline of 300000 ms passed)",
    });
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
