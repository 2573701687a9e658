import { CookieJar, type Cookie } from 'tough-cookie';
import { z } from 'zod';
import { classifyAction } from '../driver.js';
import { runInOrder } from '../order.js';
import { classifyRead, definePhase, type PhaseContext } from '../phase.js';
import { attackerIdentity, type VirtualUser } from '../users.js';
import { jarsHolding, mergeReplays, reachedEveryReplica, replay, replayEvidence, sessionCookie, whereShown, type Replay } from './security-replay.js';

/**
 * Session fixation (OWASP ASVS 3.2.1): an attacker plants a session id in the victim's browser
 * and, once the victim logs in with it, uses the same id. The id must change at login, and the
 * planted one must then show the victim's data on no replica.
 */
export const securityFixation = definePhase({
  kind: 'security-fixation',
  description: 'each user logs in presenting an id the server issued to an attacker; the id must change, and the old one must read nothing of the victim',
  options: z.strictObject({}),
  async run(context) {
    const { profile } = context;
    const origin = context.driver.origin;
    let attempts = 0;
    let unplanted = 0;
    let failedLogins = 0;
    let unchanged = 0;
    let fromPreLogin = 0;
    const replays: Replay[] = [];

    const tasks = context.users.map((user) => ({
      user: user.index,
      run: async () => {
        const planted = await issuedId(context, user);
        if (!planted) {
          unplanted++;
          return;
        }
        attempts++;
        if (planted.preLogin) fromPreLogin++;
        const victimJar = jarsHolding(planted.cookie, origin)();
        const login = await context.driver.send(victimJar, profile.login(user.identity), meta(context, user.index), classifyAction);
        const after = sessionCookie(victimJar, origin, profile.cookieName);
        // A login that failed, or left the victim without a session, says nothing about fixation.
        if (classifyAction(login) !== 'ok' || after === undefined) {
          failedLogins++;
          return;
        }
        if (profile.sessionId(after.value) === profile.sessionId(planted.cookie.value)) unchanged++;
        // Only the planted id: whatever the victim's login did, it must not show the victim's data.
        replays.push(await replay(context, user.index, jarsHolding(planted.cookie, origin), (e) => profile.isHit(e.status, e.body, user.identity)));
      },
    }));
    await runInOrder(tasks, context.concurrency, context.signal);

    const all = context.cluster.replicaIds;
    const merged = mergeReplays(replays);
    const evidence = { attempts, unplanted, idUnchangedAtLogin: unchanged, failedLogins, plantedFromPreLoginCookie: fromPreLogin, ...replayEvidence(merged, all) };
    if (attempts === 0) {
      context.findings.push({ id: 'session-fixation', title: TITLE, passed: null, summary: `not checked: no login yielded a ${profile.cookieName} cookie to plant`, evidence });
      return;
    }
    const everywhere = reachedEveryReplica(merged, all);
    const violated = unchanged > 0 || merged.shown > 0;
    const inconclusive = failedLogins > 0 ? `${failedLogins}/${attempts} victim logins failed or left no session cookie` : everywhere ? undefined : 'replays did not reach every replica';
    context.findings.push({
      id: 'session-fixation',
      title: TITLE,
      // A kept id or a read of the victim's data is proof enough; a clean result is only one if every login and replica was seen.
      passed: violated ? false : inconclusive === undefined ? true : null,
      summary:
        `the id stayed the same in ${unchanged}/${attempts - failedLogins} logins over a planted id; ` +
        `${merged.shown}/${merged.reads} reads with the planted id showed the victim's data${whereShown(merged)}` +
        (inconclusive ? `; not conclusive: ${inconclusive}` : ''),
      evidence,
    });
  },
});

const TITLE = 'a session id planted before login is replaced at login and then rejected';

function meta(context: PhaseContext, user: number) {
  return { phase: context.phase, kind: context.kind, user };
}

/**
 * A valid id to plant. An app that hands out a cookie before login gives one to anybody; the demo
 * app does not (saveUninitialized is off), so the attacker logs in as itself and uses its own.
 */
async function issuedId(context: PhaseContext, user: VirtualUser): Promise<{ cookie: Cookie; preLogin: boolean } | undefined> {
  const { profile, driver } = context;
  const jar = new CookieJar();
  await driver.send(jar, profile.read, meta(context, user.index), (e) => classifyRead(e, profile.showsAnyUser(e.status, e.body)));
  const preLogin = sessionCookie(jar, driver.origin, profile.cookieName);
  if (preLogin) return { cookie: preLogin, preLogin: true };
  const attacker = attackerIdentity(context.rng.fork(`attacker:${user.index}`), user, profile.accounts);
  await driver.send(jar, profile.login(attacker), meta(context, user.index), classifyAction);
  const issued = sessionCookie(jar, driver.origin, profile.cookieName);
  return issued ? { cookie: issued, preLogin: false } : undefined;
}
