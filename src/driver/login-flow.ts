import type { CookieJar } from 'tough-cookie';
import type { HttpRequest, Identity, LoginStep } from './app-profile.js';
import { keepCaptured } from './captures.js';
import { classifyAction, type Exchange } from './driver.js';
import type { Outcome } from './records.js';

/** Redirects one step may follow: a login answers one or two (POST -> /home -> /dashboard); more is a loop. */
export const MAX_REDIRECTS = 5;

/** One login: what each request was, what it got, and why it failed when a step did. */
export interface LoginAttempt {
  /** Every request sent, followed redirects included, with its answer, in order. */
  exchanges: { request: HttpRequest; answer: Exchange }[];
  /** The answer the login is judged by: its last step's (after the redirects it followed). */
  last: Exchange;
  /** The last step's own answer, before any redirect it followed: the one that logged the user in (its replica, its Set-Cookie). */
  lastStep: Exchange;
  /**
   * Why a step failed: no answer, answered 4xx/5xx, a redirect the step does not accept, a
   * capture that found nothing. Absent: every step went through (whether the user now holds
   * a session cookie is the caller's to judge).
   */
  failure?: string;
}

/** Sends one request as the user logging in (its jar, its phase), and gives the answer. */
export type SendAs = (request: HttpRequest) => Promise<Exchange>;

/**
 * Logs a user in with the profile's login steps: each step is filled with the user's fields and
 * what earlier steps captured, its answer judged (a redirect only where the step accepts or
 * follows it), and its captures read from it. What the steps captured is kept with the user's
 * jar, for the read, logout and increment requests that use it. `origin` is the balancer's: a
 * redirect elsewhere is not followed (test traffic goes to the app under test only).
 */
export async function logIn(steps: readonly LoginStep[], identity: Identity, jar: CookieJar, origin: string, send: SendAs): Promise<LoginAttempt> {
  const values: Record<string, string> = { ...identity };
  const captured: Record<string, string> = {};
  const exchanges: LoginAttempt['exchanges'] = [];
  let lastStep: Exchange | undefined;
  const fail = (failure: string): LoginAttempt => ({ exchanges, last: exchanges.at(-1)!.answer, lastStep: lastStep!, failure });
  try {
    for (const [index, step] of steps.entries()) {
      const request = step.request(values);
      // One step's failure reads as before (`answered 403`); of several, it names the step.
      const where = steps.length === 1 ? '' : `step ${index + 1} (${request.method} ${request.path}) `;
      let answer = await send(request);
      exchanges.push({ request, answer });
      lastStep = answer;
      let url = new URL(request.path, origin);
      for (let hops = 0; isRedirect(answer.status) && step.redirect === 'follow'; hops++) {
        const location = headerOf(answer, 'location');
        if (location === undefined) return fail(`${where}answered ${answer.status} without a Location to follow`);
        if (hops === MAX_REDIRECTS) return fail(`${where}was redirected more than ${MAX_REDIRECTS} times (last to ${location})`);
        const next = new URL(location, url);
        if (next.origin !== new URL(origin).origin) return fail(`${where}was redirected to ${next.origin}, not the app under test: hactl follows redirects on its own origin only`);
        const hop: HttpRequest = { method: 'GET', path: next.pathname + next.search };
        answer = await send(hop);
        exchanges.push({ request: hop, answer });
        url = next;
      }
      const problem = answerProblem(answer, step.redirect);
      if (problem !== undefined) return fail(where + problem);
      if (step.captures.length > 0) {
        const cookies = new Map(jar.getCookiesSync(url).map((cookie) => [cookie.key, cookie.value]));
        for (const capture of step.captures) {
          const value = capture.read(answer, cookies);
          if (value === undefined) return fail(`${where}answered ${answer.status} without ${capture.from} to capture as {{${capture.name}}}`);
          values[capture.name] = captured[capture.name] = value;
        }
      }
    }
    return { exchanges, last: exchanges.at(-1)!.answer, lastStep: lastStep! };
  } finally {
    // Kept whatever became of the login: a later check may still send with what was captured.
    if (Object.keys(captured).length > 0) keepCaptured(jar, captured);
  }
}

function answerProblem(answer: Exchange, redirect: LoginStep['redirect']): string | undefined {
  if (answer.status === 0) return `no answer (${answer.error ?? 'unknown'})`;
  if (answer.status >= 400) return `answered ${answer.status}`;
  if (isRedirect(answer.status) && redirect === 'refuse') {
    const location = headerOf(answer, 'location');
    return `answered ${answer.status}${location === undefined ? '' : ` to ${location}`}, a redirect the step does not accept (redirect: accept or follow)`;
  }
  return undefined;
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** An answer's header by its lower-case name (the last one, as a repeated Location would be read). */
export function headerOf(answer: Pick<Exchange, 'headers'>, name: string): string | undefined {
  let value: string | undefined;
  for (const [key, field] of answer.headers) if (key === name) value = field;
  return value;
}

/** Logs `identity` in with `jar`, each request a sample of the phase as `user`: what every phase that logs users in uses. */
export function logInAs(
  context: { profile: { login: readonly LoginStep[] }; origin: string; send(jar: CookieJar, request: HttpRequest, user: number, classify: (exchange: Exchange) => Outcome): Promise<Exchange> },
  jar: CookieJar,
  identity: Identity,
  user: number,
): Promise<LoginAttempt> {
  return logIn(context.profile.login, identity, jar, context.origin, (request) => context.send(jar, request, user, classifyAction));
}

/** A login that got through and is judged as the login phase judges one: ok unless a step failed or the last was refused. */
export function loginWentThrough(attempt: LoginAttempt): boolean {
  return attempt.failure === undefined && classifyAction(attempt.last) === 'ok';
}
