import { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import { classifyAction } from '../driver.js';
import { logInAs } from '../login-flow.js';
import { runInOrder } from '../order.js';
import { describeAnswer, excerptOf } from '../../runtime/http-probe.js';
import { definePhase } from '../phase.js';
import { jarsHolding, mergeReplays, reachedEveryReplica, replay, replayEvidence, sessionCookie, whereShown, type Replay } from './security-replay.js';

/**
 * Reads a user may make, with its whole jar, until it sees its fresh session before logging out:
 * where sessions stay on one replica, round robin shared with other users takes a while to get there.
 */
const READS_BEFORE_LOGOUT_PER_REPLICA = 8;

const TITLE = 'logout ends the session on every replica';

/**
 * Logout must end the session on the server (OWASP ASVS 3.3.1), not just clear the browser's
 * cookie: a copy of the cookie taken before logout must read nothing afterwards, on any replica.
 */
export const securityLogout = definePhase({
  kind: 'security-logout',
  description: "each user logs in, reads its session, logs out with the profile's logout request, then replays the old cookie on every replica",
  needsRequests: ['logout'],
  check: { findings: [{ id: 'logout-invalidates', title: TITLE }] },
  options: z.strictObject({}),
  async run(context) {
    const { profile } = context;
    const logout = profile.logout;
    if (!logout) throw new Error(`security-logout needs the app profile's logout request; the profile "${profile.name}" has none`);
    const all = context.cluster.replicaIds;
    let attempts = 0;
    let unreadable = 0;
    let failedLogouts = 0;
    let firstFailedLogout: string | undefined;
    let browserStillLoggedIn = 0;
    const replays: Replay[] = [];
    const survivals: Survival[] = [];

    const tasks = context.users.map((user) => ({
      user: user.index,
      run: async () => {
        // The user's own browser: all its cookies, the stickiness cookie too.
        const jar = new CookieJar();
        await logInAs(context, jar, user.identity, user.index);
        // Logging out a session that was never readable proves nothing.
        let readable = false;
        for (let i = 0; i < READS_BEFORE_LOGOUT_PER_REPLICA * all.length && !readable; i++) {
          const read = await context.read(user.index, jar, user.identity);
          readable = profile.isHit(read.status, read.body, user.identity);
        }
        const copied = sessionCookie(jar, context.origin, profile.cookieName);
        if (!readable || !copied) {
          unreadable++;
          return;
        }
        attempts++;
        const answer = await context.send(jar, logout, user.index, classifyAction);
        if (classifyAction(answer) !== 'ok') {
          failedLogouts++;
          firstFailedLogout ??= describeAnswer(answer.status === 0 ? { excerpt: answer.error ?? 'connection failed' } : { status: answer.status, excerpt: excerptOf(answer.body) });
          return;
        }
        // The browser itself, when the logout's answer handed it another id: a fresh id still
        // logged in has ended nothing. (The old id is the replays' to judge, by replica.)
        const handed = sessionCookie(jar, context.origin, profile.cookieName);
        if (handed && handed.value !== '' && handed.value !== copied.value) {
          const own = await context.read(user.index, jar, user.identity);
          if (profile.isHit(own.status, own.body, user.identity)) browserStillLoggedIn++;
        }
        const after = await replay(context, user.index, jarsHolding(copied, context.origin), (e) => profile.isHit(e.status, e.body, user.identity));
        replays.push(after);
        if (after.shown > 0) survivals.push({ loggedOutBy: answer.replica, servedBy: after.showingReplicas });
      },
    }));
    await runInOrder(tasks, context.concurrency, context.signal);

    const merged = mergeReplays(replays);
    const violated = merged.shown > 0 || browserStillLoggedIn > 0;
    const inconclusive =
      attempts === 0
        ? `no session was readable before logout (${unreadable}/${context.users.length} users)`
        : failedLogouts > 0
          ? `${failedLogouts}/${attempts} logouts failed (first: ${firstFailedLogout}); check the profile's logout request`
          : reachedEveryReplica(merged, all)
            ? undefined
            : 'replays did not reach every replica';
    const sessions = attempts - failedLogouts;
    // Without a store every replica keeps its own sessions; with one, a replica serving what the
    // logout ended elsewhere holds a copy of its own (a cache), which is the app's doing.
    const cause = survivalCause(survivals, context.store === undefined);
    context.findings.push({
      id: 'logout-invalidates',
      title: TITLE,
      passed: violated ? false : inconclusive === undefined ? true : null,
      summary:
        `${survivals.length}/${sessions} sessions were still served after logout ` +
        `(${merged.shown}/${merged.reads} replayed reads${whereShown(merged)})` +
        (cause.text ? `; ${cause.text}` : '') +
        (browserStillLoggedIn > 0 ? `; ${browserStillLoggedIn}/${sessions} browsers still read their user after logout, with the new id the logout's answer gave them` : '') +
        (inconclusive && !violated ? `; not conclusive: ${inconclusive}` : ''),
      evidence: { attempts, unreadableBeforeLogout: unreadable, failedLogouts, browserStillLoggedIn, ...cause.counts, ...replayEvidence(merged, all) },
    });
  },
});

/** A session served after its logout: which replica answered the logout, which ones served it after. */
interface Survival {
  loggedOutBy: string | null;
  servedBy: ReadonlySet<string>;
}

/**
 * Whose failure a surviving session is. Served by the very replica that answered its logout, the
 * app did not end it. Served only by replicas other than the one that answered the logout: where
 * each replica keeps its own sessions (`perReplica`), the logout never reached where the session
 * lives, the deployment's failure, which the same app behind a shared store or stickiness would
 * not have; behind a shared store, another replica serves a copy of its own (a cache), the app's.
 * Answers that name no replica tell neither.
 */
export function survivalCause(
  survivals: readonly Survival[],
  perReplica: boolean,
): { counts: { keptByLoggingOutReplica: number; loggedOutElsewhere: number; causeUnknown: number }; text: string } {
  const kept = survivals.filter((one) => one.loggedOutBy !== null && one.servedBy.has(one.loggedOutBy));
  const elsewhere = survivals.filter((one) => one.loggedOutBy !== null && one.servedBy.size > 0 && !one.servedBy.has(one.loggedOutBy));
  const unknown = survivals.length - kept.length - elsewhere.length;
  const parts: string[] = [];
  if (kept.length > 0) parts.push(`${kept.length} kept by the replica that answered the logout (${pairs(kept)}): the app does not end the session at logout`);
  if (elsewhere.length > 0) {
    parts.push(
      `${elsewhere.length} served only by a replica other than the one that answered the logout (${pairs(elsewhere)}): ` +
        (perReplica
          ? 'the logout did not reach the replica holding the session, a property of sessions kept per replica without stickiness rather than of the app'
          : 'behind a shared store, that replica kept a copy of its own (a cache?) that the logout did not end: the app does not end the session everywhere'),
    );
  }
  if (unknown > 0) parts.push(`${unknown} with no replica named, so whose failure is unknown`);
  return { counts: { keptByLoggingOutReplica: kept.length, loggedOutElsewhere: elsewhere.length, causeUnknown: unknown }, text: parts.join('; ') };
}

/** `logged out on replica-2, served by replica-1 (x3) / ...`, grouped. */
function pairs(survivals: readonly Survival[]): string {
  const counts = new Map<string, number>();
  for (const one of survivals) {
    const key = `logged out on ${one.loggedOutBy}, served by ${[...one.servedBy].sort().join(' and ')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (n > 1 ? `${key} (x${n})` : key)).join(' / ');
}
