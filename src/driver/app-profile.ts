/**
 * How to talk to an app: its cookie, how to log a user in and read the session back, and what a
 * hit looks like. The demo app's profile matches the classic Spring controller.
 */
export interface Identity {
  userId: string;
  userNm: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface AppProfile {
  name: string;
  cookieName: string;
  login(identity: Identity): HttpRequest;
  read: HttpRequest;
  /** The answer carries this user's own data. */
  isHit(status: number, body: string, identity: Identity): boolean;
  /** The answer carries some user's data, whoever's it is. */
  showsAnyUser(status: number, body: string): boolean;
  /** Adds one to a counter kept in the session (concurrent-writes). */
  increment?: HttpRequest;
  /** Reads that counter back; `counterValue` extracts it from the answer. */
  counter?: HttpRequest;
  counterValue?(status: number, body: string): number | undefined;
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const demoProfile: AppProfile = {
  name: 'demo',
  cookieName: 'JSESSIONID',
  login: (identity) => ({
    method: 'POST',
    path: '/login',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: identity.userId, userNm: identity.userNm }),
  }),
  read: { method: 'GET', path: '/session' },
  isHit(status, body, identity) {
    const json = status >= 200 && status < 300 ? parseJson(body) : undefined;
    return json?.userId === identity.userId && json?.userNm === identity.userNm;
  },
  showsAnyUser(status, body) {
    const json = status >= 200 && status < 300 ? parseJson(body) : undefined;
    return json !== undefined && json.userId !== null && json.userId !== undefined;
  },
  increment: { method: 'POST', path: '/counter' },
  counter: { method: 'GET', path: '/counter' },
  counterValue(status, body) {
    const value = status >= 200 && status < 300 ? parseJson(body)?.counter : undefined;
    return typeof value === 'number' ? value : undefined;
  },
};
