import { describe, expect, it } from 'vitest';
import {
  APP_STICKY_COOKIE_LIFETIME_SECONDS,
  decodeAppCookie,
  decodeStickyCookie,
  encodeAppCookie,
  encodeStickyCookie,
  readCookie,
  readRouteRequest,
  route,
  roundRobin,
  stickinessCookies,
  stickySetCookie,
  validateStickiness,
  type RouteRequest,
  type RoutingState,
  type TargetView,
} from './routing.js';
import { ALB_CORS_COOKIE_NAME, type Algorithm, type Stickiness } from './settings.js';

const off: Stickiness = { type: 'off' };
const lbCookie: Stickiness = { type: 'lb_cookie', cookieName: 'AWSALB', durationSeconds: 60 };
const appCookie: Stickiness = { type: 'app_cookie', appCookieName: 'JSESSIONID', cookieName: 'AWSALBAPP', durationSeconds: 60 };
const NOW = Date.UTC(2026, 0, 1, 0, 0, 0);

type TargetSpec = Partial<Omit<TargetView, 'id'>>;

function state(specs: Array<boolean | TargetSpec>, cursor = 0): RoutingState {
  const targets = specs.map((spec, i) => {
    const given = typeof spec === 'boolean' ? { healthy: spec } : spec;
    return { id: `replica-${i + 1}`, healthy: true, outstanding: 0, draining: false, ...given };
  });
  return { targets, cursor };
}

/** Applies decisions one after another, as the proxy does, returning the chosen target ids. */
function sequence(start: RoutingState, count: number, stickiness: Stickiness = off, request: RouteRequest = {}, algorithm: Algorithm = 'round_robin'): string[] {
  let current = start;
  const chosen: string[] = [];
  for (let i = 0; i < count; i++) {
    const decision = route(current, { now: NOW, ...request }, stickiness, algorithm)!;
    chosen.push(current.targets[decision.targetIndex]!.id);
    current = { ...current, cursor: decision.cursor };
  }
  return chosen;
}

const chosenId = (s: RoutingState, request: RouteRequest, stickiness: Stickiness, algorithm?: Algorithm) => s.targets[route(s, { now: NOW, ...request }, stickiness, algorithm)!.targetIndex]!.id;

describe('round robin (ALB round_robin algorithm)', () => {
  it('cycles through the targets in order', () => {
    expect(sequence(state([true, true, true]), 6)).toEqual(['replica-1', 'replica-2', 'replica-3', 'replica-1', 'replica-2', 'replica-3']);
  });

  it('skips targets that health checks marked unhealthy', () => {
    expect(sequence(state([false, true, true]), 4)).toEqual(['replica-2', 'replica-3', 'replica-2', 'replica-3']);
  });

  it('fails open when every target is unhealthy, routing to all of them as ALB does', () => {
    expect(sequence(state([false, false, false]), 3)).toEqual(['replica-1', 'replica-2', 'replica-3']);
  });

  it('answers nothing when there are no targets at all', () => {
    expect(route(state([]), {}, off)).toBeUndefined();
  });

  it('continues from the cursor', () => {
    expect(roundRobin(state([true, true, true], 2)).targetIndex).toBe(2);
  });
});

describe('least_outstanding_requests (ALB: the target with the fewest in-progress requests)', () => {
  const lor = (s: RoutingState) => chosenId(s, {}, off, 'least_outstanding_requests');

  it('sends the request to the healthy target with the fewest requests in flight', () => {
    expect(lor(state([{ outstanding: 3 }, { outstanding: 1 }, { outstanding: 2 }]))).toBe('replica-2');
  });

  it('ignores an idle target that health checks marked unhealthy', () => {
    expect(lor(state([{ outstanding: 3 }, { outstanding: 0, healthy: false }, { outstanding: 2 }]))).toBe('replica-3');
  });

  it('rotates through targets with equal load instead of piling onto the first (ties broken by the round-robin cursor)', () => {
    expect(sequence(state([true, true, true]), 6, off, {}, 'least_outstanding_requests')).toEqual(['replica-1', 'replica-2', 'replica-3', 'replica-1', 'replica-2', 'replica-3']);
    expect(lor(state([{ outstanding: 1 }, { outstanding: 0 }, { outstanding: 0 }], 2))).toBe('replica-3');
  });

  it('fails open over all registered targets by load when none is healthy', () => {
    expect(lor(state([{ healthy: false, outstanding: 2 }, { healthy: false, outstanding: 1 }]))).toBe('replica-2');
  });

  it('is overridden by stickiness after the initial target selection', () => {
    const busy = state([{ outstanding: 0 }, { outstanding: 9 }]);
    expect(chosenId(busy, { stickyCookie: encodeStickyCookie('replica-2') }, lbCookie, 'least_outstanding_requests')).toBe('replica-2');
    expect(chosenId(busy, {}, lbCookie, 'least_outstanding_requests')).toBe('replica-1');
  });
});

describe('deregistered targets (ALB draining state)', () => {
  it('receive no new requests from either algorithm', () => {
    const s = state([{ draining: true }, { outstanding: 5 }, { outstanding: 5 }]);
    expect(sequence(s, 4)).toEqual(['replica-2', 'replica-3', 'replica-2', 'replica-3']);
    expect(chosenId(s, {}, off, 'least_outstanding_requests')).toBe('replica-2');
  });

  it('receive no new requests even from clients pinned to them by AWSALB, who are re-pinned', () => {
    const decision = route(state([{ draining: true }, true]), { stickyCookie: encodeStickyCookie('replica-1') }, lbCookie)!;
    expect(decision.targetIndex).toBe(1);
    expect(decodeStickyCookie(decision.stickyCookie!)).toBe('replica-2');
  });

  it('receive no new requests even from clients pinned to them by AWSALBAPP, whose response re-pins them', () => {
    const pin = encodeAppCookie('replica-1', NOW + 60_000);
    const decision = route(state([{ draining: true }, true]), { stickyCookie: pin, appCookie: true, now: NOW }, appCookie)!;
    expect(decision.targetIndex).toBe(1);
    expect(decision.refreshPin).toBe(true);
    expect(decodeAppCookie(decision.stickyCookie!)?.targetId).toBe('replica-2');
  });

  it('are left out of fail-open: with every other target unhealthy, those still get the traffic', () => {
    expect(sequence(state([{ draining: true, healthy: true }, false, false]), 4)).toEqual(['replica-2', 'replica-3', 'replica-2', 'replica-3']);
  });

  it('leave nothing to route to when every target is deregistered (the proxy answers 503)', () => {
    expect(route(state([{ draining: true }, { draining: true }]), {}, lbCookie)).toBeUndefined();
  });
});

describe('lb_cookie stickiness (ALB duration-based stickiness, cookies AWSALB and AWSALBCORS)', () => {
  it('pins a client without a cookie to the round-robin choice and names it in the cookie', () => {
    const decision = route(state([true, true, true], 1), {}, lbCookie)!;
    expect(decision.targetIndex).toBe(1);
    expect(decodeStickyCookie(decision.stickyCookie!)).toBe('replica-2');
  });

  it('sends a client with a cookie to the pinned target every time, without moving the cursor', () => {
    const cookie = encodeStickyCookie('replica-3');
    expect(sequence(state([true, true, true]), 5, lbCookie, { stickyCookie: cookie })).toEqual(Array(5).fill('replica-3'));
  });

  it('re-pins to a healthy target when the pinned one is unhealthy, and the new cookie names it', () => {
    const decision = route(state([true, true, false]), { stickyCookie: encodeStickyCookie('replica-3') }, lbCookie)!;
    expect(decision.targetIndex).toBe(0);
    expect(decodeStickyCookie(decision.stickyCookie!)).toBe('replica-1');
  });

  it('keeps a pinned client on its target while every target is unhealthy (fail-open treats all as in service)', () => {
    expect(chosenId(state([false, false, false]), { stickyCookie: encodeStickyCookie('replica-3') }, lbCookie)).toBe('replica-3');
  });

  it('treats a cookie naming an unknown target, or garbage, as no cookie', () => {
    expect(route(state([true, true]), { stickyCookie: encodeStickyCookie('replica-9') }, lbCookie)!.targetIndex).toBe(0);
    expect(route(state([true, true]), { stickyCookie: '%%%not-base64' }, lbCookie)!.targetIndex).toBe(0);
  });

  it('honours a request carrying only AWSALBCORS (a cross-origin request) like one carrying AWSALB', () => {
    expect(chosenId(state([true, true, true]), { corsCookie: encodeStickyCookie('replica-3') }, lbCookie)).toBe('replica-3');
    const request = readRouteRequest(`x=1; ${ALB_CORS_COOKIE_NAME}=${encodeStickyCookie('replica-2')}`, lbCookie, NOW);
    expect(chosenId(state([true, true, true]), request, lbCookie)).toBe('replica-2');
  });

  it('prefers AWSALB when a request carries both cookies', () => {
    const request = { stickyCookie: encodeStickyCookie('replica-1'), corsCookie: encodeStickyCookie('replica-2') };
    expect(chosenId(state([true, true]), request, lbCookie)).toBe('replica-1');
  });

  it('refreshes the cookie on every response, including pinned ones (sliding expiry)', () => {
    const cookie = encodeStickyCookie('replica-2');
    expect(route(state([true, true]), { stickyCookie: cookie }, lbCookie)!.stickyCookie).toBe(cookie);
  });

  it('sets Expires to now + duration and Path=/', () => {
    const header = stickySetCookie('AWSALB', 'abc', 60, NOW);
    expect(header).toBe('AWSALB=abc; Expires=Thu, 01 Jan 2026 00:01:00 GMT; Path=/');
  });

  it('sends AWSALB and its twin AWSALBCORS with the same value plus SameSite=None; Secure on every response', () => {
    const decision = route(state([true, true]), {}, lbCookie, 'round_robin')!;
    const value = decision.stickyCookie!;
    expect(stickinessCookies(lbCookie, decision, undefined, NOW)).toEqual([
      `AWSALB=${value}; Expires=Thu, 01 Jan 2026 00:01:00 GMT; Path=/`,
      `AWSALBCORS=${value}; Expires=Thu, 01 Jan 2026 00:01:00 GMT; Path=/; SameSite=None; Secure`,
    ]);
  });

  it('slides Expires forward by the duration with each response', () => {
    const decision = route(state([true]), {}, lbCookie)!;
    const later = stickinessCookies(lbCookie, decision, undefined, NOW + 30_000);
    expect(later[0]).toContain('Expires=Thu, 01 Jan 2026 00:01:30 GMT');
    expect(later[1]).toContain('Expires=Thu, 01 Jan 2026 00:01:30 GMT');
  });
});

describe('app_cookie stickiness (ALB application-based stickiness, cookie AWSALBAPP)', () => {
  const pinTo = (id: string, stickyUntil = NOW + 60_000) => encodeAppCookie(id, stickyUntil);
  const appSetCookie = 'JSESSIONID=s%3Aabc; Path=/; HttpOnly';

  it('adds no AWSALBAPP while the app has not set its cookie', () => {
    const decision = route(state([true, true]), { now: NOW }, appCookie)!;
    expect(decision.refreshPin).toBe(false);
    expect(stickinessCookies(appCookie, decision, undefined, NOW)).toEqual([]);
    expect(stickinessCookies(appCookie, decision, ['other=1; Path=/'], NOW)).toEqual([]);
  });

  it('adds AWSALBAPP naming the serving target once the app response sets the configured cookie', () => {
    const decision = route(state([true, true], 1), { now: NOW }, appCookie)!;
    const [header, ...rest] = stickinessCookies(appCookie, decision, [appSetCookie], NOW);
    expect(rest).toEqual([]);
    const value = /^AWSALBAPP=([^;]+);/.exec(header!)![1]!;
    expect(decodeAppCookie(value)).toEqual({ targetId: 'replica-2', stickyUntil: NOW + 60_000 });
  });

  it("gives AWSALBAPP ALB's fixed 7-day Expires and Path=/, copying none of the app cookie's attributes", () => {
    const decision = route(state([true]), { now: NOW }, appCookie)!;
    const [header] = stickinessCookies(appCookie, decision, 'JSESSIONID=x; Path=/app; HttpOnly; Max-Age=5', NOW);
    expect(APP_STICKY_COOKIE_LIFETIME_SECONDS).toBe(7 * 24 * 3600);
    expect(header).toBe(`AWSALBAPP=${decision.stickyCookie}; Expires=Thu, 08 Jan 2026 00:00:00 GMT; Path=/`);
  });

  it('reacts to the app cookie by name only: a response clearing it also gets AWSALBAPP', () => {
    const decision = route(state([true]), { now: NOW }, appCookie)!;
    expect(stickinessCookies(appCookie, decision, 'JSESSIONID=; Expires=Thu, 01 Jan 1970 00:00:00 GMT', NOW)).toHaveLength(1);
  });

  it('sends a client carrying AWSALBAPP and the app cookie to that target while it is healthy, refreshing the pin', () => {
    const request = { stickyCookie: pinTo('replica-3'), appCookie: true, now: NOW };
    expect(sequence(state([true, true, true]), 4, appCookie, request)).toEqual(Array(4).fill('replica-3'));
    const decision = route(state([true, true, true]), request, appCookie)!;
    expect(decision.refreshPin).toBe(true);
    expect(stickinessCookies(appCookie, decision, undefined, NOW)).toHaveLength(1);
  });

  it('resets the stickiness duration with each response (the new pin lasts duration from now)', () => {
    const decision = route(state([true]), { stickyCookie: pinTo('replica-1', NOW + 1_000), appCookie: true, now: NOW }, appCookie)!;
    expect(decodeAppCookie(decision.stickyCookie!)?.stickyUntil).toBe(NOW + 60_000);
  });

  it('fails over to a target the algorithm picks when the pinned one is unhealthy, and re-pins to it', () => {
    const decision = route(state([false, true, true], 0), { stickyCookie: pinTo('replica-1'), appCookie: true, now: NOW }, appCookie)!;
    expect(decision.targetIndex).toBe(1);
    expect(decision.refreshPin).toBe(true);
    expect(decodeAppCookie(decision.stickyCookie!)?.targetId).toBe('replica-2');
  });

  it('keeps the client on the failover target after the original target is healthy again', () => {
    const failedOver = route(state([false, true], 0), { stickyCookie: pinTo('replica-1'), appCookie: true, now: NOW }, appCookie)!;
    const recovered = state([true, true], failedOver.cursor);
    expect(sequence(recovered, 3, appCookie, { stickyCookie: failedOver.stickyCookie, appCookie: true })).toEqual(Array(3).fill('replica-2'));
  });

  it('stops being sticky once the configured duration has lapsed without a request', () => {
    const request = { stickyCookie: pinTo('replica-2', NOW - 1), appCookie: true, now: NOW };
    const decision = route(state([true, true], 0), request, appCookie)!;
    expect(decision.targetIndex).toBe(0);
    expect(decision.refreshPin).toBe(false);
  });

  it('needs both cookies: AWSALBAPP without the app cookie routes by the algorithm', () => {
    const decision = route(state([true, true], 0), { stickyCookie: pinTo('replica-2'), appCookie: false, now: NOW }, appCookie)!;
    expect(decision.targetIndex).toBe(0);
    expect(decision.refreshPin).toBe(false);
  });

  it('treats an AWSALBAPP that does not decode as no pin', () => {
    const decision = route(state([true, true], 0), { stickyCookie: encodeStickyCookie('replica-2'), appCookie: true, now: NOW }, appCookie)!;
    expect(decision.targetIndex).toBe(0);
    expect(decision.refreshPin).toBe(false);
  });

  it('reads AWSALBAPP and the presence of the app cookie from the Cookie header', () => {
    const pin = pinTo('replica-2');
    expect(readRouteRequest(`JSESSIONID=s%3Aabc; AWSALBAPP=${pin}`, appCookie, NOW)).toEqual({ now: NOW, stickyCookie: pin, appCookie: true });
    expect(readRouteRequest(`AWSALBAPP=${pin}`, appCookie, NOW)).toEqual({ now: NOW, stickyCookie: pin, appCookie: false });
  });
});

describe('validateStickiness (ALB accepts durations from 1 second to 7 days)', () => {
  it('accepts 1 s, 1 day and 7 days, and stickiness off', () => {
    for (const durationSeconds of [1, 86_400, 604_800]) expect(validateStickiness({ ...lbCookie, durationSeconds })).toBeUndefined();
    expect(validateStickiness(appCookie)).toBeUndefined();
    expect(validateStickiness(off)).toBeUndefined();
  });

  it('rejects 0 s, more than 7 days and fractions with one line naming the range', () => {
    for (const durationSeconds of [0, 604_801, 1.5]) {
      const problem = validateStickiness({ ...appCookie, durationSeconds });
      expect(problem).toMatch(/from 1 to 604800 \(7 days\)/);
      expect(problem).not.toContain('\n');
    }
  });

  it('rejects app cookie names ALB reserves for itself (AWSALB, AWSALBAPP, AWSALBTG prefixes)', () => {
    for (const appCookieName of ['AWSALB', 'AWSALBAPP', 'AWSALBTG', 'AWSALBfoo']) expect(validateStickiness({ ...appCookie, appCookieName })).toMatch(/reserved/);
  });

  it('rejects an app cookie name that is not a cookie token', () => {
    expect(validateStickiness({ ...appCookie, appCookieName: 'my cookie' })).toMatch(/cookie token/);
    expect(validateStickiness({ ...appCookie, appCookieName: '' })).toMatch(/cookie token/);
  });
});

describe('readCookie', () => {
  it('finds one cookie among several, trimming spaces', () => {
    expect(readCookie('JSESSIONID=s%3Aabc; AWSALB=cmVwbGljYS0x ; x=1', 'AWSALB')).toBe('cmVwbGljYS0x');
  });

  it('does not match on a name that merely ends with the wanted one', () => {
    expect(readCookie('XAWSALB=1', 'AWSALB')).toBeUndefined();
    expect(readCookie(undefined, 'AWSALB')).toBeUndefined();
  });
});
