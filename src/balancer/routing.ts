import type { Stickiness } from './settings.js';

/**
 * Routing decisions, as pure functions of (state, request) so they are tested without sockets.
 * The proxy around them owns the mutable state and applies each decision's new cursor.
 */
export interface TargetView {
  id: string;
  healthy: boolean;
}

export interface RoutingState {
  targets: readonly TargetView[];
  /** Round-robin position: the index to try first. */
  cursor: number;
}

export interface RouteRequest {
  /** The value of the balancer's stickiness cookie, when the client sent one. */
  stickyCookie?: string;
}

export interface RouteDecision {
  targetIndex: number;
  cursor: number;
  /** The stickiness cookie to set on the response, naming the serving target. */
  stickyCookie?: string;
}

export function route(state: RoutingState, request: RouteRequest, stickiness: Stickiness): RouteDecision | undefined {
  if (state.targets.length === 0) return undefined;
  if (stickiness.type === 'lb_cookie') {
    // ALB: a request whose cookie names a healthy target goes there; otherwise the algorithm
    // picks a new target and the response re-pins the client to it.
    const pinned = request.stickyCookie === undefined ? -1 : pinnedIndex(state, request.stickyCookie);
    const decision =
      pinned >= 0 && state.targets[pinned]!.healthy
        ? { targetIndex: pinned, cursor: state.cursor }
        : roundRobin(state);
    // ALB refreshes the cookie on every response, so its expiry slides with each request.
    return { ...decision, stickyCookie: encodeStickyCookie(state.targets[decision.targetIndex]!.id) };
  }
  return roundRobin(state);
}

/**
 * Next healthy target after the cursor. When no target is healthy the balancer fails open and
 * routes to all of them, as ALB does, rather than refusing every request.
 */
export function roundRobin(state: RoutingState): RouteDecision {
  const count = state.targets.length;
  const anyHealthy = state.targets.some((target) => target.healthy);
  for (let step = 0; step < count; step++) {
    const index = (state.cursor + step) % count;
    if (!anyHealthy || state.targets[index]!.healthy) return { targetIndex: index, cursor: (index + 1) % count };
  }
  throw new Error('unreachable: a non-empty target list always yields a target');
}

function pinnedIndex(state: RoutingState, cookie: string): number {
  const id = decodeStickyCookie(cookie);
  return id === undefined ? -1 : state.targets.findIndex((target) => target.id === id);
}

/** ALB's cookie is opaque to clients; base64url of the target id is opaque enough and cheap. */
export function encodeStickyCookie(targetId: string): string {
  return Buffer.from(targetId, 'utf8').toString('base64url');
}

export function decodeStickyCookie(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url').toString('utf8');
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

/** The Set-Cookie header ALB sends with lb_cookie stickiness: Expires slides forward by the duration. */
export function stickySetCookie(name: string, value: string, durationSeconds: number, now: number): string {
  const expires = new Date(now + durationSeconds * 1000).toUTCString();
  return `${name}=${value}; Expires=${expires}; Path=/`;
}
