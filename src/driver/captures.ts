import type { CookieJar } from 'tough-cookie';
import type { HttpRequest } from './app-profile.js';

/**
 * What a user's login captured (a CSRF token, a header), kept beside the user's cookie jar: the
 * values belong to the browser that logged in, as its cookies do, and every later request of
 * that browser (read, logout, increment) is filled with them. A copied jar (an attacker's) holds
 * the cookies only, as a stolen cookie would.
 */
const byJar = new WeakMap<CookieJar, Record<string, string>>();

const NONE: Readonly<Record<string, string>> = Object.freeze({});

export function capturedValues(jar: CookieJar): Readonly<Record<string, string>> {
  return byJar.get(jar) ?? NONE;
}

/** Adds (or replaces: a later step may capture a name again, as a token rotated at login) values for `jar`. */
export function keepCaptured(jar: CookieJar, values: Readonly<Record<string, string>>): void {
  byJar.set(jar, { ...byJar.get(jar), ...values });
}

/** `request` as `jar`'s browser sends it: with its captured values filled in, when it uses any. */
export function requestFor(jar: CookieJar, request: HttpRequest): HttpRequest {
  return request.fill === undefined ? request : request.fill(capturedValues(jar));
}
