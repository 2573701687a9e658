import { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import type { Exchange } from '../driver.js';
import { logInAs } from '../login-flow.js';
import { runInOrder } from '../order.js';
import { definePhase, type PhaseClient } from '../phase.js';
import type { FindingId } from '../findings.js';
import type { RecordedFinding } from '../records.js';
import { jarsHolding, replay, sessionCookie, unreached } from './security-replay.js';
import { parseSetCookie, redactSetCookie, type SetCookie } from './security-set-cookie.js';

/** Extra logins, per replica, to hear from a replica no user's login reached. */
const EXTRA_LOGINS_PER_REPLICA = 4;
const UNKNOWN = 'replicas unknown';
const SAME_SITE_OK: ReadonlySet<string> = new Set(['lax', 'strict']);

/**
 * Whether a Set-Cookie's SameSite keeps the cookie off cross-site requests (Lax, Strict), or, for
 * a cookie meant for cross-site use, says None the only way browsers accept it (with Secure, over
 * HTTPS). None
 * states SameSite but lets every cross-site request carry the cookie (CSRF), as no attribute once did.
 */
export function sameSiteOk(cookie: SetCookie, crossSiteCookie: boolean, https: boolean): boolean {
  const value = cookie.attributes.get('samesite')?.toLowerCase() ?? '';
  if (SAME_SITE_OK.has(value)) return true;
  // Over plain HTTP an app leaves Secure off (it adds it behind TLS, as cookie-secure assumes).
  return value === 'none' && crossSiteCookie && (cookie.attributes.has('secure') || !https);
}

interface Seen {
  replica: string;
  header: string;
  cookie: SetCookie;
}

interface Check {
  id: FindingId;
  title: string;
  /** Whether one Set-Cookie is right. */
  ok(cookie: SetCookie, context: PhaseClient): boolean;
  /** Why the failing Set-Cookies fail, where the attribute's mere absence is not the whole story. */
  why?(failing: readonly SetCookie[], context: PhaseClient): string | undefined;
  /** Why the check does not apply to this run, if it does not. */
  notApplicable?(context: PhaseClient): string | undefined;
}

/** OWASP ASVS 3.4: what every Set-Cookie of the session cookie must say, whichever replica sent it. */
const CHECKS: readonly Check[] = [
  { id: 'cookie-httponly', title: 'the session cookie is HttpOnly (scripts cannot read it)', ok: (c) => c.attributes.has('httponly') },
  {
    id: 'cookie-secure',
    title: 'the session cookie is Secure (sent over HTTPS only)',
    ok: (c) => c.attributes.has('secure'),
    // A Secure cookie set over http is dropped by browsers; the attribute is the app's to add once TLS is in front.
    notApplicable: (context) => (context.origin.startsWith('https:') ? undefined : 'not checked: served over plain HTTP'),
  },
  {
    id: 'cookie-samesite',
    title: 'the session cookie states SameSite=Lax or Strict (None only where the profile intends cross-site use)',
    ok: (c, context) => sameSiteOk(c, context.profile.crossSiteCookie === true, context.origin.startsWith('https:')),
    why: (failing, context) =>
      !failing.some((c) => c.attributes.get('samesite')?.toLowerCase() === 'none')
        ? undefined
        : context.profile.crossSiteCookie === true
          ? 'browsers drop a SameSite=None cookie that is not Secure'
          : 'SameSite=None lets browsers send the cookie with cross-site requests; say crossSiteCookie: true in the app profile if that is intended',
  },
  { id: 'cookie-path', title: 'the session cookie states a Path', ok: (c) => (c.attributes.get('path') ?? '') !== '' },
  // A Domain attribute widens the cookie to every subdomain; host-only is the narrowest scope.
  { id: 'cookie-no-domain', title: 'the session cookie has no Domain (host-only)', ok: (c) => !c.attributes.has('domain') },
];

/**
 * The session cookie's attributes, on every Set-Cookie of it from every replica: users log in and
 * replay their cookie on every replica (each answer of an app with a rolling expiry sets it again).
 */
export const securityCookieAttributes = definePhase({
  kind: 'security-cookie-attributes',
  description: 'users log in and read on every replica; every Set-Cookie of the session cookie must be HttpOnly, Secure (over HTTPS), with SameSite and Path, and no Domain',
  options: z.strictObject({}),
  async run(context) {
    const { profile } = context;
    const all = context.cluster.replicaIds;
    const seen: Seen[] = [];
    const collect = (exchange: Exchange) => {
      for (const header of exchange.setCookies) {
        const cookie = parseSetCookie(header);
        if (cookie?.name === profile.cookieName) seen.push({ replica: exchange.replica ?? UNKNOWN, header, cookie });
      }
      return exchange;
    };
    const loginAndReplay = async (user: number) => {
      const jar = new CookieJar();
      // Every answer of the login: a login page may set the session cookie before the form is posted.
      for (const { answer } of (await logInAs(context, jar, context.users[user]!.identity, user)).exchanges) collect(answer);
      const cookie = sessionCookie(jar, context.origin, profile.cookieName);
      if (!cookie) return;
      await replay(context, user, jarsHolding(cookie, context.origin), (e) => {
        collect(e);
        return profile.isHit(e.status, e.body, context.users[user]!.identity);
      });
    };
    await runInOrder(context.users.map((user) => ({ user: user.index, run: () => loginAndReplay(user.index) })), context.concurrency, context.signal);

    // A replica that keeps sessions to itself sets the cookie only at the logins it serves.
    const silent = () => (seen.some((one) => one.replica === UNKNOWN) ? [] : unreached(new Set(seen.map((one) => one.replica)), all, profile.replica !== undefined));
    for (let extra = 0; extra < EXTRA_LOGINS_PER_REPLICA * all.length && silent().length > 0; extra++) {
      context.signal.throwIfAborted();
      await loginAndReplay(extra % context.users.length);
    }

    for (const check of CHECKS) context.findings.push(finding(context, check, seen, silent()));
  },
});

function finding(context: PhaseClient, check: Check, seen: readonly Seen[], silent: readonly string[]): RecordedFinding {
  const ok = (cookie: SetCookie) => check.ok(cookie, context);
  const failing = seen.filter((one) => !ok(one.cookie));
  const evidence: Record<string, number | string> = {
    setCookies: seen.length,
    failing: failing.length,
    byReplica: byReplica(seen, ok),
    ...(silent.length > 0 ? { noSetCookieFrom: silent.join(', ') } : {}),
    ...(seen.length > 0 ? { example: redactSetCookie((failing[0] ?? seen[0]!).header) } : {}),
  };
  const base = { id: check.id, title: check.title, evidence };
  const notApplicable = check.notApplicable?.(context);
  if (notApplicable) return { ...base, passed: null, summary: `${notApplicable}; ${seen.length - failing.length}/${seen.length} Set-Cookies had it` };
  if (seen.length === 0) return { ...base, passed: null, summary: `not checked: no replica sent a Set-Cookie of ${context.profile.cookieName}` };
  const where = silent.length > 0 ? `; no Set-Cookie seen from ${silent.join(', ')}` : '';
  const why = failing.length > 0 ? check.why?.(failing.map((one) => one.cookie), context) : undefined;
  return {
    ...base,
    passed: failing.length === 0 ? (silent.length > 0 ? null : true) : false,
    summary:
      `${seen.length - failing.length}/${seen.length} Set-Cookies of ${context.profile.cookieName} complied (${byReplica(seen, ok)})${where}` +
      (failing.length > 0 ? `; one that did not: ${redactSetCookie(failing[0]!.header)}` : '') +
      (why ? `: ${why}` : ''),
  };
}

/** `replica-1 12/12, replica-2 9/9`: complying Set-Cookies out of all, per replica. */
function byReplica(seen: readonly Seen[], ok: (cookie: SetCookie) => boolean): string {
  const replicas = [...new Set(seen.map((one) => one.replica))].sort();
  return replicas
    .map((replica) => {
      const mine = seen.filter((one) => one.replica === replica);
      return `${replica} ${mine.filter((one) => ok(one.cookie)).length}/${mine.length}`;
    })
    .join(', ');
}
