import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAppProfile } from '../../src/config/app-profile.js';

/**
 * The PHP fixture's app profile compiles, and says what the app does: a form login, PHP's own
 * cookie, the routes router.php serves, and the idle timeout launch.sh and router.php enforce.
 */
const file = (relative: string) => fileURLToPath(new URL(`../../fixtures/apps/${relative}`, import.meta.url));
const user = { userId: 'u0001-00abcd', userNm: 'Kim Minji' };

describe('fixtures/apps/php.yaml', () => {
  it('compiles, with the cookie, health path and strategies of the PHP app', async () => {
    const profile = await loadAppProfile(file('php.yaml'));
    expect(profile).toMatchObject({ name: 'php', cookieName: 'PHPSESSID', healthPath: '/health', strategies: ['none', 'sticky', 'redis'] });
    // The whole cookie value is the id.
    expect(profile.sessionId('kh3tjbcm9rf54s6sk8agoqac4ndd4be2')).toBe('kh3tjbcm9rf54s6sk8agoqac4ndd4be2');
  });

  it('logs in with a form post that PHP parses into $_POST', async () => {
    const profile = await loadAppProfile(file('php.yaml'));
    const login = profile.login[0]!.request(user);
    expect(login).toMatchObject({ method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(Object.fromEntries(new URLSearchParams(login.body))).toEqual(user);
  });

  it('counts a read as a hit only with the user own fields', async () => {
    const profile = await loadAppProfile(file('php.yaml'));
    expect(profile.read).toEqual({ method: 'GET', path: '/session' });
    const answer = (body: object) => JSON.stringify({ ...body, replica: 'replica-1' });
    expect(profile.isHit(200, answer(user), user)).toBe(true);
    expect(profile.isHit(200, answer({ userId: null, userNm: null }), user)).toBe(false);
    expect(profile.isHit(200, answer({ ...user, userId: 'u0002-00abcd' }), user)).toBe(false);
    expect(profile.isHit(503, answer(user), user)).toBe(false);
    expect(profile.showsAnyUser(200, answer({ userId: 'someone', userNm: 'else' }))).toBe(true);
    expect(profile.showsAnyUser(200, answer({ userId: null, userNm: null }))).toBe(false);
  });

  it('has logout, increment and a counter read', async () => {
    const profile = await loadAppProfile(file('php.yaml'));
    expect(profile.logout).toEqual({ method: 'POST', path: '/logout' });
    expect(profile.increment).toEqual({ method: 'POST', path: '/counter' });
    expect(profile.counter).toEqual({ method: 'GET', path: '/counter' });
    expect(profile.counterValue!(200, '{"counter":7,"replica":"replica-2"}')).toBe(7);
    expect(profile.counterValue!(401, '{"error":"not logged in"}')).toBeUndefined();
  });

  it('states the idle timeout the launcher and the app default to', async () => {
    const profile = await loadAppProfile(file('php.yaml'));
    const launcher = await readFile(file('php/launch.sh'), 'utf8');
    const router = await readFile(file('php/router.php'), 'utf8');
    const launcherDefault = /idle=\$\{SESSION_IDLE_SECONDS:-(\d+)\}/.exec(launcher);
    const routerDefault = /const IDLE_DEFAULT_SECONDS = (\d+);/.exec(router);
    expect(launcherDefault, 'the default in launch.sh').not.toBeNull();
    expect(routerDefault, 'the default in router.php').not.toBeNull();
    expect(profile.idleTimeoutSeconds).toBe(Number(launcherDefault![1]));
    expect(profile.idleTimeoutSeconds).toBe(Number(routerDefault![1]));
  });
});
