import { describe, expect, it } from 'vitest';
import { decodeStickyCookie, encodeStickyCookie, readCookie, route, roundRobin, stickySetCookie, type RoutingState } from './routing.js';
import type { Stickiness } from './settings.js';

const off: Stickiness = { type: 'off' };
const lbCookie: Stickiness = { type: 'lb_cookie', cookieName: 'AWSALB', durationSeconds: 60 };

function state(healthy: boolean[], cursor = 0): RoutingState {
  return { targets: healthy.map((h, i) => ({ id: `replica-${i + 1}`, healthy: h })), cursor };
}

/** Applies decisions one after another, as the proxy does, returning the chosen target ids. */
function sequence(start: RoutingState, count: number, stickiness: Stickiness = off, cookie?: string): string[] {
  let current = start;
  const chosen: string[] = [];
  for (let i = 0; i < count; i++) {
    const decision = route(current, { stickyCookie: cookie }, stickiness)!;
    chosen.push(current.targets[decision.targetIndex]!.id);
    current = { ...current, cursor: decision.cursor };
  }
  return chosen;
}

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

describe('lb_cookie stickiness (ALB duration-based stickiness, cookie AWSALB)', () => {
  it('pins a client without a cookie to the round-robin choice and names it in the cookie', () => {
    const decision = route(state([true, true, true], 1), {}, lbCookie)!;
    expect(decision.targetIndex).toBe(1);
    expect(decodeStickyCookie(decision.stickyCookie!)).toBe('replica-2');
  });

  it('sends a client with a cookie to the pinned target every time, without moving the cursor', () => {
    const cookie = encodeStickyCookie('replica-3');
    expect(sequence(state([true, true, true]), 5, lbCookie, cookie)).toEqual(Array(5).fill('replica-3'));
  });

  it('re-pins to a healthy target when the pinned one is unhealthy, and the new cookie names it', () => {
    const decision = route(state([true, true, false]), { stickyCookie: encodeStickyCookie('replica-3') }, lbCookie)!;
    expect(decision.targetIndex).toBe(0);
    expect(decodeStickyCookie(decision.stickyCookie!)).toBe('replica-1');
  });

  it('treats a cookie naming an unknown target, or garbage, as no cookie', () => {
    expect(route(state([true, true]), { stickyCookie: encodeStickyCookie('replica-9') }, lbCookie)!.targetIndex).toBe(0);
    expect(route(state([true, true]), { stickyCookie: '%%%not-base64' }, lbCookie)!.targetIndex).toBe(0);
  });

  it('refreshes the cookie on every response, including pinned ones (sliding expiry)', () => {
    const cookie = encodeStickyCookie('replica-2');
    expect(route(state([true, true]), { stickyCookie: cookie }, lbCookie)!.stickyCookie).toBe(cookie);
  });

  it('sets Expires to now + duration and Path=/', () => {
    const header = stickySetCookie('AWSALB', 'abc', 60, Date.UTC(2026, 0, 1, 0, 0, 0));
    expect(header).toBe('AWSALB=abc; Expires=Thu, 01 Jan 2026 00:01:00 GMT; Path=/');
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
