import { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import { classifyAction } from '../driver.js';
import { runInOrder } from '../order.js';
import { definePhase, readAs } from '../phase.js';
import { jarsHolding, mergeReplays, reachedEveryReplica, replay, replayEvidence, sessionCookie, whereShown, type Replay } from './security-replay.js';

/**
 * Reads a user may make, with its whole jar, until it sees its fresh session before logging out:
 * where sessions stay on one replica, round robin shared with other users takes a while to get there.
 */
const READS_BEFORE_LOGOUT_PER_REPLICA = 8;

/**
 * Logout must end the session on the server (OWASP ASVS 3.3.1), not just clear the browser's
 * cookie: a copy of the cookie taken before logout must read nothing afterwards, on any replica.
 */
export const securityLogout = definePhase({
  kind: 'security-logout',
  description: "each user logs in, reads its session, logs out with the profile's logout request, then replays the old cookie on every replica",
  needsRequests: ['logout'],
  options: z.strictObject({}),
  async run(context) {
    const { profile, driver } = context;
    const logout = profile.logout;
    if (!logout) throw new Error(`security-logout needs the app profile's logout request; the profile "${profile.name}" has none`);
    const all = context.cluster.replicaIds;
    let attempts = 0;
    let unreadable = 0;
    let failedLogouts = 0;
    const replays: Replay[] = [];

    const tasks = context.users.map((user) => ({
      user: user.index,
      run: async () => {
        const meta = { phase: context.phase, kind: context.kind, user: user.index };
        // The user's own browser: all its cookies, the stickiness cookie too.
        const jar = new CookieJar();
        await driver.send(jar, profile.login(user.identity), meta, classifyAction);
        // Logging out a session that was never readable proves nothing.
        let readable = false;
        for (let i = 0; i < READS_BEFORE_LOGOUT_PER_REPLICA * all.length && !readable; i++) {
          const read = await readAs(context, user.index, jar, user.identity);
          readable = profile.isHit(read.status, read.body, user.identity);
        }
        const copied = sessionCookie(jar, driver.origin, profile.cookieName);
        if (!readable || !copied) {
          unreadable++;
          return;
        }
        attempts++;
        const answer = await driver.send(jar, logout, meta, classifyAction);
        if (classifyAction(answer) !== 'ok') {
          failedLogouts++;
          return;
        }
        replays.push(await replay(context, user.index, jarsHolding(copied, driver.origin), (e) => profile.isHit(e.status, e.body, user.identity)));
      },
    }));
    await runInOrder(tasks, context.concurrency, context.signal);

    const merged = mergeReplays(replays);
    const violated = merged.shown > 0;
    const inconclusive =
      attempts === 0
        ? `no session was readable before logout (${unreadable}/${context.users.length} users)`
        : failedLogouts > 0
          ? `${failedLogouts}/${attempts} logouts failed`
          : reachedEveryReplica(merged, all)
            ? undefined
            : 'replays did not reach every replica';
    const sessions = attempts - failedLogouts;
    context.findings.push({
      id: 'logout-invalidates',
      title: 'logout ends the session on every replica',
      passed: violated ? false : inconclusive === undefined ? true : null,
      summary:
        `${replays.filter((one) => one.shown > 0).length}/${sessions} sessions were still served after logout ` +
        `(${merged.shown}/${merged.reads} replayed reads${whereShown(merged)})` +
        (inconclusive ? `; not conclusive: ${inconclusive}` : ''),
      evidence: { attempts, unreadableBeforeLogout: unreadable, failedLogouts, ...replayEvidence(merged, all) },
    });
  },
});
