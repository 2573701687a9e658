import type { CookieJar } from 'tough-cookie';
import { errorMessage } from '../platform/errors.js';
import type { AppProfile } from './app-profile.js';
import { classifyAction, Driver } from './driver.js';
import { runInOrder } from './order.js';
import { sessionCookie } from './phases/security-replay.js';
import type { RateLimiter } from '../platform/rate-limit.js';
import type { RowWarning } from './warnings.js';

/** The cleanup's bound however many sessions it has: a deployment that is slow for all of them must not hold the run for longer. */
export const LOGOUT_DEADLINE_MAX_MS = 5 * 60_000;

/**
 * How long logging out `sessions` may take: each wave of `concurrency` logouts one request
 * timeout (one more for the wave cut short), and the rate's share of the time on top; at most
 * LOGOUT_DEADLINE_MAX_MS. A deadline that did not grow with the sessions left most of a security
 * scenario's (about 1,100) logged in on a deployment 200 ms away.
 */
export function logoutDeadlineMs(sessions: number, concurrency: number, requestTimeoutMs: number, perSecond?: number): number {
  const waves = Math.ceil(sessions / Math.max(1, concurrency));
  const rateShare = perSecond ? Math.ceil((1_000 * sessions) / perSecond) : 0;
  return Math.min(LOGOUT_DEADLINE_MAX_MS, (waves + 1) * requestTimeoutMs + rateShare);
}

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

  const deadlineMs = logoutDeadlineMs(byValue.size, input.concurrency, input.requestTimeoutMs, input.limiter?.perSecond);
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

/**
 * The row's warning when the cleanup left sessions logged in (logouts that failed or were never
 * sent): they live on in the deployment's store. Not invalid: the figures were measured before it.
 */
export function sessionsLeftWarning(result: LogoutResult): RowWarning | undefined {
  const unsent = result.sessions - result.sent;
  const left = unsent + result.failed;
  if (left === 0) return undefined;
  const why = [result.failed > 0 ? `${result.failed} logouts failed` : '', unsent > 0 ? `${unsent} were never sent (${result.unsent ?? 'the cleanup ended first'})` : ''].filter(Boolean).join('; ');
  return { id: 'sessions-left', message: `${left} of ${result.sessions} sessions hactl made are still logged in on the deployment: ${why}` };
}
