import { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import { sleep } from '../../platform/time.js';
import { logInAs } from '../login-flow.js';
import { runInOrder } from '../order.js';
import { definePhase, type PhaseClient } from '../phase.js';
import type { RecordedFinding } from '../records.js';
import { jarsHolding, mergeReplays, reachedEveryReplica, replay, replayEvidence, sessionCookie, whereShown, type Replay } from './security-replay.js';

/** The longest idle timeout this check waits out (it waits about twice that). */
const MAX_IDLE_SECONDS = 600;
/**
 * Slack on both sides of the timeout: the cookie's Expires has whole seconds only, stores expire
 * keys on their own clocks, and a round of replays takes time.
 */
const MARGIN_MS = 2_000;

const ID = 'idle-timeout';
const TITLE = 'an idle session expires on every replica';

interface Session {
  user: number;
  jars: () => CookieJar;
  loginEnd: number;
  beforeStart?: number;
  beforeEnd?: number;
  before?: Replay;
}

/**
 * The server, not the browser, must end an idle session (OWASP ASVS 3.3.2): once the idle timeout
 * has passed, replaying the cookie (past its expiry too) must read nothing on any replica. Just
 * before the timeout the session must still be served, or the check would prove nothing.
 */
export const securityIdleTimeout = definePhase({
  kind: 'security-idle-timeout',
  description: 'users log in, stay idle just under the idle timeout and read (served), then idle past it and replay the expired cookie on every replica (not served)',
  options: z.strictObject({}),
  async run(context) {
    const ttl = context.idleTimeoutSeconds;
    if (ttl === undefined) return void context.findings.push(notChecked('the app profile states no idle timeout'));
    if (ttl > MAX_IDLE_SECONDS) return void context.findings.push(notChecked(`the idle timeout (${ttl} s) is longer than the ${MAX_IDLE_SECONDS} s this check waits`, { idleTimeoutSeconds: ttl }));
    const { profile } = context;
    const ttlMs = ttl * 1000;
    const sessions = await logIn(context);
    if (sessions.length === 0) return void context.findings.push(notChecked('no login yielded a session cookie', { idleTimeoutSeconds: ttl }));

    const isHit = (user: number) => (e: { status: number; body: string }) => profile.isHit(e.status, e.body, context.users[user]!.identity);
    // The earliest login idles longest: read just before its timeout, and the others' follow.
    await sleepUntil(context, Math.min(...sessions.map((s) => s.loginEnd)) + ttlMs - Math.min(ttlMs / 2, MARGIN_MS));
    await runInOrder(
      sessions.map((session) => ({
        user: session.user,
        run: async () => {
          session.beforeStart = context.now();
          session.before = await replay(context, session.user, session.jars, isHit(session.user), { expiredCookies: true });
          session.beforeEnd = context.now();
        },
      })),
      context.concurrency,
      context.signal,
    );
    const alive = sessions.filter((s) => (s.before?.shown ?? 0) > 0);
    if (alive.length === 0) {
      // Sessions that read fine right after login and not after an idle time shorter than the
      // profile's: the app's own timeout is shorter than the profile says (or the sessions are lost).
      const idleMs = Math.round(ttlMs - Math.min(ttlMs / 2, MARGIN_MS));
      return void context.findings.push(notChecked(`no session was served just before the timeout, after ${idleMs / 1000} s idle: is the app's idle timeout shorter than the profile's idleTimeoutSeconds (${ttl} s)?`, { idleTimeoutSeconds: ttl, users: sessions.length, ...replayEvidence(mergeReplays(sessions.map((s) => s.before!)), context.cluster.replicaIds) }));
    }

    // Each read above slid its session's timeout: wait it out from the last one.
    await sleepUntil(context, Math.max(...alive.map((s) => s.beforeEnd!)) + ttlMs + MARGIN_MS);
    const after: Replay[] = [];
    let shortestIdleAfter = Infinity;
    await runInOrder(
      alive.map((session) => ({
        user: session.user,
        run: async () => {
          shortestIdleAfter = Math.min(shortestIdleAfter, context.now() - session.beforeEnd!);
          after.push(await replay(context, session.user, session.jars, isHit(session.user), { expiredCookies: true }));
        },
      })),
      context.concurrency,
      context.signal,
    );

    const all = context.cluster.replicaIds;
    const merged = mergeReplays(after);
    const before = mergeReplays(alive.map((s) => s.before!));
    // A lower bound: the session was untouched since login when its replay began, and a read later in it hit.
    const longestIdleServed = Math.min(...alive.map((s) => s.beforeStart! - s.loginEnd));
    const everywhere = reachedEveryReplica(merged, all);
    const served = after.filter((one) => one.shown > 0).length;
    context.findings.push({
      id: ID,
      title: TITLE,
      passed: merged.shown > 0 ? false : everywhere ? true : null,
      summary:
        `idle timeout ${ttl} s: ${alive.length}/${sessions.length} sessions were served after ${seconds(longestIdleServed)} s idle; ` +
        `after ${seconds(shortestIdleAfter)} s idle ${served}/${alive.length} were still served (${merged.shown}/${merged.reads} replayed reads${whereShown(merged)})` +
        (everywhere ? '' : '; not conclusive: replays did not reach every replica'),
      evidence: {
        idleTimeoutSeconds: ttl,
        sessions: sessions.length,
        servedBeforeTimeout: alive.length,
        idleBeforeMs: Math.round(longestIdleServed),
        idleAfterMs: Math.round(shortestIdleAfter),
        replicasAnsweredBefore: replayEvidence(before, all).replicasAnswered!,
        ...replayEvidence(merged, all),
      },
    });
  },
});

async function logIn(context: PhaseClient): Promise<Session[]> {
  const { profile } = context;
  const sessions: Session[] = [];
  await runInOrder(
    context.users.map((user) => ({
      user: user.index,
      run: async () => {
        const jar = new CookieJar();
        await logInAs(context, jar, user.identity, user.index);
        const cookie = sessionCookie(jar, context.origin, profile.cookieName);
        // Replays carry the session cookie alone, as the attacker who copied it would.
        if (cookie) sessions.push({ user: user.index, jars: jarsHolding(cookie, context.origin), loginEnd: context.now() });
      },
    })),
    context.concurrency,
    context.signal,
  );
  return sessions.sort((a, b) => a.loginEnd - b.loginEnd);
}

function sleepUntil(context: PhaseClient, at: number): Promise<void> {
  return sleep(Math.max(0, at - context.now()), undefined, { signal: context.signal });
}

function notChecked(reason: string, evidence: Record<string, number | string> = {}): RecordedFinding {
  return { id: ID, title: TITLE, passed: null, summary: `not checked: ${reason}`, evidence };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
