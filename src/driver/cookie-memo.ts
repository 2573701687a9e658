import { CookieJar, MemoryCookieStore, type Cookie } from 'tough-cookie';

/**
 * What a virtual user's jar would send and store, without asking tough-cookie again when
 * nothing it depends on has changed.
 *
 * tough-cookie keeps each jar's cookies exactly as a browser would, but under load it was the
 * driver's largest cost: every request parsed the URL's host, walked the public suffix list and
 * matched every cookie (`getCookieStringSync`), and every answer parsed its `Set-Cookie` again
 * (`setCookieSync`), though a user's answers mostly repeat the cookie the jar already holds
 * (a rolling session's `Max-Age`, an `Expires` that moves once a second). So:
 *
 * - the `Cookie` header is remembered per jar and URL until the jar's store changes or one of
 *   the cookies in it expires; a reuse refreshes `lastAccessed` on those cookies, as
 *   `getCookies` does (tough-cookie counts `Max-Age` from it);
 * - an answer whose `Set-Cookie` lines equal the last lines stored for the same URL, with the
 *   store unchanged since, only refreshes `lastAccessed` on the cookies they stored, which is
 *   all storing the same lines again would change (the replaced cookie keeps its `creation`).
 *
 * Both rest on the store counting its changes, so they apply only to jars made by `newJar`;
 * any other jar goes through tough-cookie every time. Cookies sent past their expiry (a stale
 * tab, a replay) always go through tough-cookie.
 */
export class CountingCookieStore extends MemoryCookieStore {
  /** Bumped by every put, update and removal, whoever makes it (a phase, tough-cookie expiring a cookie). */
  changes = 0;
  header: HeaderMemo | undefined;
  stored: StoredMemo | undefined;
}

interface HeaderMemo {
  url: URL;
  changes: number;
  cookies: Cookie[];
  value: string;
}

interface StoredMemo {
  url: URL;
  changes: number;
  lines: string[];
  cookies: Cookie[];
}

// The store's mutators, wrapped once on the prototype: tough-cookie calls them with and without
// callbacks, and their overloads make typed overrides longer than what they do.
for (const name of ['putCookie', 'updateCookie', 'removeCookie', 'removeCookies', 'removeAllCookies'] as const) {
  const original = MemoryCookieStore.prototype[name] as (...args: unknown[]) => unknown;
  Object.defineProperty(CountingCookieStore.prototype, name, {
    value: function (this: CountingCookieStore, ...args: unknown[]) {
      this.changes++;
      return original.apply(this, args);
    },
    writable: true,
    configurable: true,
  });
}

/** A virtual user's jar: tough-cookie over a store that counts its changes. */
export function newJar(): CookieJar {
  return new CookieJar(new CountingCookieStore());
}

// getCookieString sorts what getCookies returns with cookieCompare; `sort` makes getCookies do the same.
const SORTED = { sort: true };

/** The `Cookie` header `jar` sends to `url` (`getCookieStringSync(url)`). */
export function cookieHeader(jar: CookieJar, url: URL): string {
  const store = jar.store;
  if (!(store instanceof CountingCookieStore)) return jar.getCookieStringSync(url);
  const memo = store.header;
  if (memo !== undefined && memo.url === url && memo.changes === store.changes && !anyExpired(memo.cookies)) {
    touch(memo.cookies);
    return memo.value;
  }
  const cookies = jar.getCookiesSync(url, SORTED);
  // getCookieString's own rendering of what getCookies returned.
  const value = cookies.map((cookie) => cookie.cookieString()).join('; ');
  store.header = { url, changes: store.changes, cookies, value };
  return value;
}

/** Stores an answer's `Set-Cookie` lines for `url` (`setCookieSync`, invalid lines ignored). */
export function storeSetCookies(jar: CookieJar, url: URL, lines: readonly string[]): void {
  if (lines.length === 0) return;
  const store = jar.store;
  if (!(store instanceof CountingCookieStore)) {
    for (const line of lines) jar.setCookieSync(line, url, IGNORE_ERROR);
    return;
  }
  const memo = store.stored;
  if (memo !== undefined && memo.url === url && memo.changes === store.changes && sameLines(memo.lines, lines)) {
    touch(memo.cookies);
    return;
  }
  const cookies: Cookie[] = [];
  for (const line of lines) {
    const cookie = jar.setCookieSync(line, url, IGNORE_ERROR);
    if (cookie) cookies.push(cookie);
  }
  store.stored = { url, changes: store.changes, lines: [...lines], cookies };
}

const IGNORE_ERROR = { ignoreError: true };

let lastAccess = new Date(0);

/**
 * Stamps `lastAccessed` as tough-cookie does on a get: one Date per millisecond, shared by the
 * cookies stamped in it (tough-cookie shares one among the cookies of a get, and never changes a
 * Date it holds).
 */
function touch(cookies: readonly Cookie[]): void {
  const now = Date.now();
  if (lastAccess.getTime() !== now) lastAccess = new Date(now);
  for (const cookie of cookies) cookie.lastAccessed = lastAccess;
}

function anyExpired(cookies: readonly Cookie[]): boolean {
  if (cookies.length === 0) return false;
  const now = Date.now();
  for (const cookie of cookies) {
    const expiry = cookie.expiryTime();
    if (expiry !== undefined && expiry <= now) return true;
  }
  return false;
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
