import type { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import { classifyAction, type Exchange } from '../driver.js';
import { logIn, type LoginAttempt } from '../login-flow.js';
import { runInOrder } from '../order.js';
import { definePhase } from '../phase.js';
import type { LoginRecord } from '../records.js';

/** Enough of a failed login's answer to recognise it (an error page's title, a JSON error). */
const BODY_START = 200;

export const login = definePhase({
  kind: 'login',
  description: "each user logs in once with the app profile's login request (or steps)",
  options: z.strictObject({}),
  async run(context) {
    const order = context.rng.shuffle(context.users.map((user) => user.index));
    // Where the session must reach: the cookie counts if the read will carry it.
    const readUrl = new URL(context.origin + context.profile.read.path);
    const tasks = order.map((index) => {
      const user = context.users[index]!;
      return {
        user: index,
        run: async () => {
          const attempt = await logIn(context.profile.login, user.identity, user.jar, context.origin, (request) => context.send(user.jar, request, index, classifyAction));
          context.logins.push(judgeLogin(index, context.now(), attempt, user.jar, readUrl, context.profile.cookieName));
        },
      };
    });
    await runInOrder(tasks, context.concurrency, context.signal);
  },
});

/**
 * Whether a login gave the user a session: every step went through, the last answered below 400
 * (a 302 after the POST is what most frameworks send), after which the jar holds the profile's
 * cookie for the read's URL. Anything else leaves the user without a session, whatever the strategy.
 */
export function judgeLogin(user: number, end: number, attempt: LoginAttempt, jar: CookieJar, readUrl: URL, cookieName: string): LoginRecord {
  const exchange = attempt.last;
  const record: LoginRecord = { user, end, status: exchange.status };
  const failure = attempt.failure ?? loginFailure(exchange, jar, readUrl, cookieName, attempt);
  if (failure === undefined) return record;
  return { ...record, failure, ...(exchange.status !== 0 ? { body: exchange.body.slice(0, BODY_START) } : {}) };
}

function loginFailure(exchange: Exchange, jar: CookieJar, readUrl: URL, cookieName: string, attempt: LoginAttempt): string | undefined {
  if (exchange.status === 0) return `no answer (${exchange.error ?? 'unknown'})`;
  if (exchange.status >= 400) return `answered ${exchange.status}`;
  const missing = missingSessionCookie(attempt.exchanges.length > 0 ? attempt.exchanges.map(({ answer }) => answer) : [exchange], jar, readUrl, cookieName);
  return missing === undefined ? undefined : `answered ${exchange.status} ${missing}`;
}

/**
 * Why the jar holds no `cookieName` cookie for the read after an answered login (`without a
 * JSESSIONID cookie`), or undefined when it does. A cookie the browser rules refuse (Secure over
 * plain HTTP, a foreign Domain, a Path that excludes the read) is as good as none, and the
 * message says which it was.
 */
export function missingSessionCookie(answers: readonly Pick<Exchange, 'setCookies'>[], jar: CookieJar, readUrl: URL, cookieName: string): string | undefined {
  if (jar.getCookiesSync(readUrl).some((cookie) => cookie.key === cookieName)) return undefined;
  // Any answer of the login may have set it: a login page hands the session cookie out before the form is posted.
  const offered = answers.some((answer) => answer.setCookies.some((line) => line.trimStart().startsWith(`${cookieName}=`)));
  return offered
    ? `with a ${cookieName} cookie that the browser rules did not keep for ${readUrl.pathname} (Secure over plain HTTP, Domain or Path?)`
    : `without a ${cookieName} cookie`;
}
