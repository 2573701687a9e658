import type { CookieJar } from 'tough-cookie';
import { errorMessage } from '../errors.js';
import type { AppProfile } from './app-profile.js';
import { classifyAction, Driver } from './driver.js';
import { runInOrder } from './order.js';
import { sessionCookie } from './phases/security-replay.js';
import type { RateLimiter } from './rate-limit.js';

/** What logging out at the end did: sessions found in jars, logouts sent, and those that failed. */
export interface LogoutResult {
  sessions: number;
  /** Logouts started (sessions - sent were never started: the deadline passed first). */
  sent: number;
  /** Started and answered with no 2xx/3xx, not answered, or cut short by the deadline. */
  failed: number;
  /** Why some were never sent (the cleanup's deadline passed), if so. */
  unsent?: string;
  ms: number;
}

/**
 * --runtime external: a deployment's session store must not keep what a run made. Every session
 * a jar of the run still holds (the scenario's users, the warm-up's, the fresh jars of security
 * checks) is logged out once with the profile's logout request, on a driver of its own whose
 * requests are no samples of the row. Jars holding the same session (a copied cookie) log it out
 * once. Never throws: it runs after a failed scenario too, and is bounded by `deadlineMs`.
 */
export async function logOutSessions(input: {
  origin: string;
  profile: AppProfile;
  jars: Iterable<CookieJar>;
  concurrency: number;
  requestTimeoutMs: number;
  limiter?: RateLimiter;
  signal: AbortSignal;
}): Promise<LogoutResult> {
  const started = Date.now();
  const { profile } = input;
  const logout = profile.logout!;
  const byValue = new Map<string, CookieJar>();
  for (const jar of input.jars) {
    const cookie = sessionCookie(jar, input.origin, profile.cookieName);
    if (cookie && cookie.value !== '' && !byValue.has(cookie.value)) byValue.set(cookie.value, jar);
  }
  const result: LogoutResult = { sessions: byValue.size, sent: 0, failed: 0, ms: 0 };
  if (byValue.size === 0) return result;

  // Bounded: every logout one request timeout, the rate's share of the time on top.
  const deadlineMs = 2 * input.requestTimeoutMs + (input.limiter ? Math.ceil((1_000 * byValue.size) / input.limiter.perSecond) : 0);
  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = AbortSignal.any([input.signal, deadline]);
  const driver = new Driver(input.origin, {
    scenario: 'logout',
    concurrency: input.concurrency,
    requestTimeoutMs: input.requestTimeoutMs,
    signal,
    ...(input.limiter ? { limiter: input.limiter } : {}),
  });
  try {
    await runInOrder(
      [...byValue.values()].map((jar, index) => ({
        user: index,
        run: async () => {
          // Counted as failed until answered: one the deadline cuts short ended nothing that hactl saw.
          result.sent++;
          result.failed++;
          const answer = await driver.send(jar, logout, { phase: 'logout', kind: 'logout', user: index }, classifyAction);
          if (classifyAction(answer) === 'ok') result.failed--;
        },
      })),
      input.concurrency,
      signal,
    );
  } catch (error) {
    if (!input.signal.aborted) result.unsent = deadline.aborted ? `the cleanup's deadline of ${deadlineMs} ms passed` : errorMessage(error);
  } finally {
    await driver.close().catch(() => {});
    result.ms = Date.now() - started;
  }
  return result;
}

/** One line for the progress output: `logged out 31 sessions (0 failed)`. */
export function describeLogouts(result: LogoutResult): string {
  const unsent = result.sessions - result.sent;
  return (
    `logged out ${result.sent - result.failed} of ${result.sessions} sessions hactl made` +
    (result.failed > 0 ? `; ${result.failed} logouts failed` : '') +
    (unsent > 0 ? `; ${unsent} not sent${result.unsent ? ` (${result.unsent})` : ''}` : '')
  );
}
