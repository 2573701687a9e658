import { CookieJar, type Cookie } from 'tough-cookie';
import { z } from 'zod';
import { classifyAction, type Exchange } from '../driver.js';
import { runInOrder } from '../order.js';
import { classifyRead, definePhase, type PhaseContext } from '../phase.js';
import { attackerIdentity, type VirtualUser } from '../users.js';
import { jarsHolding, mergeReplays, reachedEveryReplica, replay, replayEvidence, sessionCookie, whereShown, type Replay } from './security-replay.js';

/**
 * Victim logins a user may make, per replica, until one reaches a replica that holds the planted
 * session: where sessions live on one replica and nothing routes the victim there, round robin
 * (shared with other users) takes a few tries.
 */
const LOGINS_PER_REPLICA = 8;

/**
 * Session fixation (OWASP ASVS 3.2.1): an attacker plants a session id in the victim's browser
 * and, once the victim logs in with it, uses the same id. The id must change at login, and the
 * planted one must then show the victim's data on no replica.
 *
 * The attacker plants every cookie of its own browser, the balancer's stickiness cookie too, as a
 * real attacker can. A victim's login counts only if it reached a replica that holds the planted
 * session: where each replica keeps its own sessions, a login answered elsewhere gets a fresh id
 * whatever the app does, and passing on it would be a false pass.
 */
export const securityFixation = definePhase({
  kind: 'security-fixation',
  description: 'each user logs in presenting an id the server issued to an attacker (and its stickiness cookie); the id must change, and the old one must read nothing of the victim',
  options: z.strictObject({}),
  async run(context) {
    const { profile } = context;
    const origin = context.driver.origin;
    const all = context.cluster.replicaIds;
    let attempts = 0;
    let unplanted = 0;
    let failedLogins = 0;
    let unchanged = 0;
    let fromPreLogin = 0;
    let loginsElsewhere = 0;
    let neverReachedHolder = 0;
    const replays: Replay[] = [];

    const tasks = context.users.map((user) => ({
      user: user.index,
      run: async () => {
        const planted = await plantedSession(context, user);
        if (!planted) {
          unplanted++;
          return;
        }
        attempts++;
        if (planted.preLogin) fromPreLogin++;
        const kept = (cookie: Cookie) => profile.sessionId(cookie.value) === profile.sessionId(planted.cookie.value);
        let after: Cookie | undefined;
        for (let tries = 0; tries < LOGINS_PER_REPLICA * all.length && after === undefined; tries++) {
          context.signal.throwIfAborted();
          const victimJar = copyJar(planted.jar, origin);
          const login = await context.driver.send(victimJar, profile.login(user.identity), meta(context, user.index), classifyAction);
          const cookie = sessionCookie(victimJar, origin, profile.cookieName);
          // A login that failed, or left the victim without a session, says nothing about fixation.
          if (classifyAction(login) !== 'ok' || cookie === undefined) {
            failedLogins++;
            return;
          }
          // A kept id is proof wherever the login landed (a replica that adopts an id it never
          // issued fixes the victim's session as surely); a new one counts only where the planted session lives.
          if (kept(cookie) || planted.holds(login)) after = cookie;
          else loginsElsewhere++;
        }
        if (after === undefined) {
          neverReachedHolder++;
          return;
        }
        if (kept(after)) unchanged++;
        // Only the planted id: whatever the victim's login did, it must not show the victim's data.
        replays.push(await replay(context, user.index, jarsHolding(planted.cookie, origin), (e) => profile.isHit(e.status, e.body, user.identity)));
      },
    }));
    await runInOrder(tasks, context.concurrency, context.signal);

    const merged = mergeReplays(replays);
    const judged = attempts - failedLogins - neverReachedHolder;
    const evidence = {
      attempts,
      unplanted,
      idUnchangedAtLogin: unchanged,
      failedLogins,
      plantedFromPreLoginCookie: fromPreLogin,
      loginsJudged: judged,
      loginsElsewhere,
      neverReachedHolder,
      ...replayEvidence(merged, all),
    };
    if (attempts === 0) {
      context.findings.push({ id: 'session-fixation', title: TITLE, passed: null, summary: `not checked: no login yielded a ${profile.cookieName} cookie to plant`, evidence });
      return;
    }
    const violated = unchanged > 0 || merged.shown > 0;
    const inconclusive =
      failedLogins > 0
        ? `${failedLogins}/${attempts} victim logins failed or left no session cookie`
        : neverReachedHolder > 0
          ? `${neverReachedHolder}/${attempts} victims' logins never reached a replica holding the planted session (${LOGINS_PER_REPLICA * all.length} tries each)`
          : reachedEveryReplica(merged, all)
            ? undefined
            : 'replays did not reach every replica';
    context.findings.push({
      id: 'session-fixation',
      title: TITLE,
      // A kept id or a read of the victim's data is proof enough; a clean result is only one if every login and replica was seen.
      passed: violated ? false : inconclusive === undefined ? true : null,
      summary:
        `the id stayed the same in ${unchanged}/${judged} logins over a planted id (logins that changed it counted only where the planted session lived); ` +
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

interface Planted {
  /** The attacker's whole browser: the session cookie, the stickiness cookie, anything else. */
  jar: CookieJar;
  cookie: Cookie;
  preLogin: boolean;
  /** Whether the replica that answered a victim's login holds the planted session. */
  holds(login: Exchange): boolean;
}

/**
 * A valid id to plant. An app that hands out a cookie before login gives one to anybody; the demo
 * app does not (saveUninitialized is off), so the attacker logs in as itself and uses its own.
 * Which replicas hold it: the one that issued it, and (a logged-in session shows its owner) every
 * replica a replay of it showed the attacker on. When answers name no replica, a login holds it
 * only if every replay showed it (a store every replica shares) or there is one replica.
 */
async function plantedSession(context: PhaseContext, user: VirtualUser): Promise<Planted | undefined> {
  const { profile, driver } = context;
  const jar = new CookieJar();
  const read = await driver.send(jar, profile.read, meta(context, user.index), (e) => classifyRead(e, profile.showsAnyUser(e.status, e.body)));
  const preLogin = sessionCookie(jar, driver.origin, profile.cookieName);
  const single = context.cluster.replicaIds.length === 1;
  if (preLogin) return { jar, cookie: preLogin, preLogin: true, holds: (login) => (login.replica === null ? single : login.replica === read.replica) };
  const attacker = attackerIdentity(context.rng.fork(`attacker:${user.index}`), user, profile.accounts);
  const login = await driver.send(jar, profile.login(attacker), meta(context, user.index), classifyAction);
  const issued = sessionCookie(jar, driver.origin, profile.cookieName);
  if (!issued) return undefined;
  const seen = await replay(context, user.index, jarsHolding(issued, driver.origin), (e) => profile.isHit(e.status, e.body, attacker));
  const holders = new Set([...seen.showingReplicas, ...(login.replica === null ? [] : [login.replica])]);
  const everywhere = seen.reads > 0 && seen.shown === seen.reads;
  return { jar, cookie: issued, preLogin: false, holds: (victimLogin) => (victimLogin.replica === null ? single || everywhere : holders.has(victimLogin.replica)) };
}

/** A new browser holding every cookie of `jar` for `origin` (expired ones too: an attacker keeps what it copied). */
function copyJar(jar: CookieJar, origin: string): CookieJar {
  const copy = new CookieJar();
  for (const cookie of jar.getCookiesSync(origin, { expire: false })) copy.setCookieSync(cookie.toString(), origin);
  return copy;
}
