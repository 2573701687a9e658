import type { ReplicaIdentity } from './replica-identity.js';

/**
 * How to talk to an app: its cookie, how to log a user in and read the session back, and what a
 * hit looks like. Profiles are written in YAML (src/config/app-profile.ts compiles them); the
 * demo app's matches the classic Spring controller.
 */
/**
 * A user's template fields: `userId` and `userNm` (seeded), or one row of the profile's test
 * accounts, by the CSV file's column names.
 */
export type Identity = Readonly<Record<string, string>>;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * The request with the values its login captured filled in (a CSRF token on every POST), when
   * the profile's request uses any: the driver fills it per jar (src/driver/captures.ts) as it sends.
   */
  fill?(values: Readonly<Record<string, string>>): HttpRequest;
}

/**
 * One request of a login: its templates take the user's fields and what earlier steps captured.
 * A profile's one-request login is one step that accepts a redirect answer.
 */
export interface LoginStep {
  request(values: Readonly<Record<string, string>>): HttpRequest;
  /** A 3xx answer: a failed login (`refuse`), the step's answer (`accept`), or followed to its Location (`follow`). */
  redirect: 'refuse' | 'accept' | 'follow';
  captures: readonly Capture[];
}

/** A value a login step takes from its answer, for later steps and requests to send as {{name}}. */
export interface Capture {
  name: string;
  /** Where it is read from, for messages: `cookie csrftoken`, `header X-CSRF-Token`, `json $.token`, `body /.../`. */
  from: string;
  /** The value, or undefined when the answer does not carry it. `cookies` are the user's cookies for the step's URL after the answer. */
  read(answer: { body: string; headers: readonly (readonly [string, string])[]; setCookies: readonly string[] }, cookies: ReadonlyMap<string, string>): string | undefined;
}

/** Requests a scenario may need that a profile need not have. */
export const OPTIONAL_REQUESTS = ['logout', 'increment', 'readReplica'] as const;
export type OptionalRequest = (typeof OPTIONAL_REQUESTS)[number];

export interface AppProfile {
  name: string;
  /** Where the profile came from (a file path, or `built-in`), for messages. */
  source: string;
  cookieName: string;
  /** A path that answers 2xx once a replica is ready to serve. */
  healthPath: string;
  /** The port the app listens on inside its container (--app-image); absent, the image's EXPOSEd port. */
  containerPort?: number;
  /** The app's idle timeout, when the profile states it: the security scenario waits it out. */
  idleTimeoutSeconds?: number;
  /** The session cookie is meant to be sent on cross-site requests (an embedded app): SameSite=None is then what it should say. */
  crossSiteCookie?: boolean;
  /** Test accounts from the profile's `users:` CSV file, in its order; absent, identities are seeded. */
  accounts?: readonly Identity[];
  /** Where the accounts came from (the CSV file's path), for messages. */
  accountsSource?: string;
  /** Strategies the app can keep sessions with; rows of the others are skipped. Absent: all. */
  strategies?: readonly string[];
  /** The login: one request, or a short list of steps (a login page for a CSRF token, then the form). */
  login: readonly LoginStep[];
  read: HttpRequest;
  /** The answer carries this user's own data. */
  isHit(status: number, body: string, identity: Identity): boolean;
  /** The answer carries some user's data, whoever's it is. */
  showsAnyUser(status: number, body: string): boolean;
  /** The session id inside the cookie's value (express-session's is `s:<id>.<signature>`). */
  sessionId(cookieValue: string): string;
  logout?: HttpRequest;
  /** Adds one to a counter kept in the session (concurrent-writes). */
  increment?: HttpRequest;
  /** Reads that counter back; `counterValue` extracts it from the answer. */
  counter?: HttpRequest;
  counterValue?(status: number, body: string): number | undefined;
  /**
   * Reads that counter through the store's reader endpoint (a replica) rather than the primary
   * (replica-reads); `replicaCounterValue` extracts it, undefined when the answer holds none (the
   * replica has no such session).
   */
  readReplica?: HttpRequest;
  replicaCounterValue?(status: number, body: string): number | undefined;
  /**
   * Where answers name the replica that gave them (the profile's `replica:`), on every runtime;
   * absent: hactl's balancer's x-hactl-replica tag.
   */
  replica?: ReplicaIdentity;
}

/** Whether the profile has a request a scenario needs (increment needs its counter read too). */
export function hasRequest(profile: AppProfile, request: OptionalRequest): boolean {
  if (request === 'increment') return profile.increment !== undefined && profile.counter !== undefined && profile.counterValue !== undefined;
  if (request === 'readReplica') return profile.readReplica !== undefined && profile.replicaCounterValue !== undefined;
  return profile[request] !== undefined;
}
