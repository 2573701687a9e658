import { HTTP_TOKEN } from '../platform/http-token.js';
import { MAX_STICKINESS_SECONDS, MIN_STICKINESS_SECONDS, type Algorithm, type Stickiness } from './settings.js';

/**
 * Routing decisions, as pure functions of (state, request) so they are tested without sockets.
 * The proxy around them owns the mutable state and applies each decision's new cursor.
 *
 * ALB behaviour relied on (AWS "Target groups for your Application Load Balancers" and "Sticky
 * sessions for your Application Load Balancer", docs.aws.amazon.com/elasticloadbalancing/latest/application/):
 * - round_robin is the default; least_outstanding_requests picks the target with the fewest
 *   in-progress requests; stickiness overrides the algorithm after the initial target selection.
 * - "the load balancer stops routing requests to a target as soon as it is deregistered" (draining).
 * - if a target group has only unhealthy targets, ALB fails open and routes to all of them.
 */
export interface TargetView {
  id: string;
  healthy: boolean;
  /** Requests forwarded to it and not finished yet; least_outstanding_requests reads it. */
  outstanding: number;
  /** Deregistered (ALB's `draining`, then `unused`): no new request in any mode, pinned or not. */
  draining: boolean;
}

export interface RoutingState {
  targets: readonly TargetView[];
  /** Round-robin position: the index to try first (least_outstanding_requests breaks ties with it). */
  cursor: number;
}

export interface RouteRequest {
  /** The balancer's stickiness cookie (AWSALB for lb_cookie, AWSALBAPP for app_cookie), when sent. */
  stickyCookie?: string;
  /** lb_cookie: the AWSALBCORS twin, honoured when AWSALB is missing (a cross-origin request). */
  corsCookie?: string;
  /** app_cookie: whether the request carried the app's own cookie; ALB needs both to stay sticky. */
  appCookie?: boolean;
  /** Epoch ms; app_cookie stickiness lapses by it. */
  now?: number;
}

export interface RouteDecision {
  targetIndex: number;
  cursor: number;
  /** The stickiness cookie's value, naming the serving target (lb_cookie and app_cookie). */
  stickyCookie?: string;
  /**
   * app_cookie: the request was stuck, so the response refreshes (or, after a failover, re-pins)
   * AWSALBAPP whatever the app answers. Otherwise AWSALBAPP appears only when the app sets its cookie.
   */
  refreshPin?: boolean;
}

/** ALB's AWSALBAPP cookie "has its own expiry of 7 days which is non-configurable". */
export const APP_STICKY_COOKIE_LIFETIME_SECONDS = 604_800;

export function route(state: RoutingState, request: RouteRequest, stickiness: Stickiness, algorithm: Algorithm = 'round_robin'): RouteDecision | undefined {
  const anyHealthy = state.targets.some((target) => !target.draining && target.healthy);
  if (!state.targets.some((target) => !target.draining)) return undefined;
  if (stickiness.type === 'off') return pick(state, algorithm);
  const now = request.now ?? Date.now();

  if (stickiness.type === 'lb_cookie') {
    // ALB: a cookie naming a target in service wins; one that cannot be decoded, or names a
    // deregistered or unhealthy target, makes the algorithm pick and the response re-pin.
    const cookie = request.stickyCookie ?? request.corsCookie;
    const pinned = cookie === undefined ? -1 : indexOf(state, decodeStickyCookie(cookie));
    const decision = pinned >= 0 && inService(state.targets[pinned]!, anyHealthy) ? { targetIndex: pinned, cursor: state.cursor } : pick(state, algorithm);
    // ALB "resets the expiry of the cookies it generates after every request": always set it.
    return { ...decision, stickyCookie: encodeStickyCookie(state.targets[decision.targetIndex]!.id) };
  }

  // app_cookie: stuck only while the client sends both cookies and the pin has not lapsed.
  const pin = request.appCookie && request.stickyCookie !== undefined ? decodeAppCookie(request.stickyCookie) : undefined;
  const stuck = pin !== undefined && pin.stickyUntil > now;
  const pinned = stuck ? indexOf(state, pin.targetId) : -1;
  const decision = pinned >= 0 && inService(state.targets[pinned]!, anyHealthy) ? { targetIndex: pinned, cursor: state.cursor } : pick(state, algorithm);
  const stickyUntil = now + stickiness.durationSeconds * 1000;
  return { ...decision, stickyCookie: encodeAppCookie(state.targets[decision.targetIndex]!.id, stickyUntil), refreshPin: stuck };
}

/** The configured algorithm's choice among the targets in service. */
export function pick(state: RoutingState, algorithm: Algorithm): RouteDecision {
  return algorithm === 'least_outstanding_requests' ? leastOutstanding(state) : roundRobin(state);
}

/**
 * Next target in service after the cursor. When no target is healthy the balancer fails open and
 * routes to all registered ones, as ALB does, rather than refusing every request.
 */
export function roundRobin(state: RoutingState): RouteDecision {
  const count = state.targets.length;
  const anyHealthy = state.targets.some((target) => !target.draining && target.healthy);
  for (let step = 0; step < count; step++) {
    const index = (state.cursor + step) % count;
    if (inService(state.targets[index]!, anyHealthy)) return { targetIndex: index, cursor: (index + 1) % count };
  }
  throw new Error('no target in service: route() answers undefined before asking an algorithm');
}

/**
 * The target in service with the fewest requests in flight. Scanning from the cursor and keeping
 * the first minimum makes equal load rotate like round robin instead of piling onto target 1.
 */
export function leastOutstanding(state: RoutingState): RouteDecision {
  const count = state.targets.length;
  const anyHealthy = state.targets.some((target) => !target.draining && target.healthy);
  let best = -1;
  for (let step = 0; step < count; step++) {
    const index = (state.cursor + step) % count;
    const target = state.targets[index]!;
    if (inService(target, anyHealthy) && (best < 0 || target.outstanding < state.targets[best]!.outstanding)) best = index;
  }
  if (best < 0) throw new Error('no target in service: route() answers undefined before asking an algorithm');
  return { targetIndex: best, cursor: (best + 1) % count };
}

/** Healthy, or any registered target while none is healthy (ALB's fail-open). */
function inService(target: TargetView, anyHealthy: boolean): boolean {
  return !target.draining && (target.healthy || !anyHealthy);
}

function indexOf(state: RoutingState, id: string | undefined): number {
  return id === undefined ? -1 : state.targets.findIndex((target) => target.id === id);
}

/**
 * The one-line problem with a stickiness setting, or undefined. ALB accepts durations from 1 second
 * to 7 days, and app cookie names that do not start with AWSALB (AWSALB, AWSALBAPP and AWSALBTG are
 * reserved for the load balancer).
 */
export function validateStickiness(stickiness: Stickiness): string | undefined {
  if (stickiness.type === 'off') return undefined;
  const { durationSeconds } = stickiness;
  if (!Number.isInteger(durationSeconds) || durationSeconds < MIN_STICKINESS_SECONDS || durationSeconds > MAX_STICKINESS_SECONDS) {
    return `stickiness duration must be a whole number of seconds from ${MIN_STICKINESS_SECONDS} to ${MAX_STICKINESS_SECONDS} (7 days), got ${durationSeconds}`;
  }
  if (!isCookieName(stickiness.cookieName)) return `stickiness cookie name must be a cookie token, got ${JSON.stringify(stickiness.cookieName)}`;
  if (stickiness.type === 'app_cookie') {
    if (!isCookieName(stickiness.appCookieName)) return `app cookie name must be a cookie token, got ${JSON.stringify(stickiness.appCookieName)}`;
    if (stickiness.appCookieName.toUpperCase().startsWith('AWSALB')) return `app cookie name ${stickiness.appCookieName} is reserved: ALB keeps names starting with AWSALB for itself`;
  }
  return undefined;
}

// RFC 6265 §4.1.1: a cookie name is an RFC 9110 token.
function isCookieName(name: string): boolean {
  return HTTP_TOKEN.test(name);
}

/** ALB's cookie is opaque to clients; base64url of the target id is opaque enough and cheap. */
export function encodeStickyCookie(targetId: string): string {
  return Buffer.from(targetId, 'utf8').toString('base64url');
}

export function decodeStickyCookie(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url').toString('utf8');
}

/**
 * AWSALBAPP carries the target and when stickiness lapses: ALB "decrypts the AWSALBAPP cookie, and
 * checks whether the configured duration of stickiness is still valid", because the cookie's own
 * Expires is a fixed 7 days and cannot tell.
 */
export function encodeAppCookie(targetId: string, stickyUntil: number): string {
  return Buffer.from(`${stickyUntil}:${targetId}`, 'utf8').toString('base64url');
}

export function decodeAppCookie(value: string): { targetId: string; stickyUntil: number } | undefined {
  const decoded = decodeStickyCookie(value);
  const match = decoded === undefined ? null : /^(\d+):(.+)$/s.exec(decoded);
  return match ? { targetId: match[2]!, stickyUntil: Number(match[1]) } : undefined;
}

/** One cookie's value from a Cookie header, without parsing the rest. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** What routing needs from a request's Cookie header under `stickiness`. */
export function readRouteRequest(cookieHeader: string | undefined, stickiness: Stickiness, now: number): RouteRequest {
  if (stickiness.type === 'off' || !cookieHeader) return { now };
  if (stickiness.type === 'lb_cookie') {
    return { now, stickyCookie: readCookie(cookieHeader, stickiness.cookieName), corsCookie: readCookie(cookieHeader, corsCookieName(stickiness.cookieName)) };
  }
  return { now, stickyCookie: readCookie(cookieHeader, stickiness.cookieName), appCookie: readCookie(cookieHeader, stickiness.appCookieName) !== undefined };
}

/** AWSALB's twin for cross-origin requests is AWSALBCORS (ALB_CORS_COOKIE_NAME). */
export function corsCookieName(cookieName: string): string {
  return `${cookieName}CORS`;
}

/**
 * The Set-Cookie header ALB sends with lb_cookie stickiness: Expires (ALB uses Expires, not
 * Max-Age) slides forward by the duration on every response.
 */
export function stickySetCookie(name: string, value: string, durationSeconds: number, now: number): string {
  const expires = new Date(now + durationSeconds * 1000).toUTCString();
  return `${name}=${value}; Expires=${expires}; Path=/`;
}

/**
 * The Set-Cookie headers the balancer adds to one response. lb_cookie: AWSALB and its twin
 * AWSALBCORS with `SameSite=None; Secure`, which some browsers require on cross-origin requests
 * ("Clients receive both cookies"). app_cookie: AWSALBAPP when the app's response sets its cookie
 * (ALB checks the name only, not value or expiry) or when the request was stuck (refresh or
 * re-pin), with ALB's fixed 7-day Expires and Path=/; none of the app cookie's attributes are
 * copied. ALB adds `SameSite=None; Secure` to AWSALBAPP only for Chromium 80+ user agents on CORS
 * requests; hactl's clients are no browsers, so it never does.
 */
export function stickinessCookies(stickiness: Stickiness, decision: RouteDecision, upstreamSetCookie: string | string[] | undefined, now: number): string[] {
  const value = decision.stickyCookie;
  if (stickiness.type === 'off' || value === undefined) return [];
  if (stickiness.type === 'lb_cookie') {
    const { cookieName, durationSeconds } = stickiness;
    return [stickySetCookie(cookieName, value, durationSeconds, now), `${stickySetCookie(corsCookieName(cookieName), value, durationSeconds, now)}; SameSite=None; Secure`];
  }
  if (!decision.refreshPin && !setsCookie(upstreamSetCookie, stickiness.appCookieName)) return [];
  return [stickySetCookie(stickiness.cookieName, value, APP_STICKY_COOKIE_LIFETIME_SECONDS, now)];
}

/** Whether a response's Set-Cookie headers set (or clear) the cookie called `name`. */
export function setsCookie(setCookie: string | string[] | undefined, name: string): boolean {
  if (setCookie === undefined) return false;
  const headers = Array.isArray(setCookie) ? setCookie : [setCookie];
  return headers.some((header) => {
    const eq = header.indexOf('=');
    return eq > 0 && header.slice(0, eq).trim() === name;
  });
}
