import { setTimeout as sleep } from 'node:timers/promises';
import { CookieJar, type Cookie } from 'tough-cookie';
import { z } from 'zod';
import type { Exchange } from '../driver.js';
import { logInAs, loginWentThrough } from '../login-flow.js';
import type { Outcome } from '../records.js';
import { runInOrder } from '../order.js';
import { classifyRead, definePhase, type PhaseClient } from '../phase.js';
import { attackerIdentity, type VirtualUser } from '../users.js';
import { parseSetCookie } from './security-set-cookie.js';
import { jarsHolding, mergeReplays, reachedEveryReplica, replay, replayEvidence, sessionCookie, whereShown, type Replay } from './security-replay.js';

/**
 * Victim logins a user may make, per replica, until one reaches a replica that holds the planted
 * session: where sessions live on one replica and nothing routes the victim there, round robin
 * (shared with other users) takes a few tries.
 */
const LOGINS_PER_REPLICA = 8;
/** The longest pause before a victim's login is sent again: far longer than a request here takes. */
const RETRY_JITTER_MS = 50;

/**
 * Session fixation (OWASP ASVS 3.2.1): an attacker plants a session id in the victim's browser
 * and, once the victim logs in with it, uses the same id. The id must change at login, and the
 * planted one must then show the victim's data on no replica.
 *
 * The attacker plants every cookie of its own browser, the balancer's stickiness cookie too, as a
 * real attacker can. A victim's login that changed the id counts only if it reached a replica
 * that holds the planted session: where each replica keeps its own sessions, a login answered
 * elsewhere gets a fresh id whatever the app does, and passing on it would be a false pass.
 */
export const securityFixation = definePhase({
  kind: 'security-fixation',
  description: 'each user logs in presenting an id the server issued to an attacker (and its stickiness cookie); the id must change, and the old one must read nothing of the victim',
  options: z.strictObject({}),
  async run(context) {
    const { profile } = context;
    const origin = context.origin;
    const all = context.cluster.replicaIds;
    let attempts = 0;
    let unplanted = 0;
    let failedLogins = 0;
    let unchanged = 0;
    let fromPreLogin = 0;
    let loginsElsewhere = 0;
    let neverReachedHolder = 0;
    let keptWithoutSession = 0;
    const replays: Replay[] = [];

    /** One planted id, judged: the victim logs in carrying it until a login is known to count. */
    const judge = async (user: VirtualUser, planted: Planted) => {
      attempts++;
      if (planted.preLogin) fromPreLogin++;
      const kept = (cookie: Cookie) => profile.sessionId(cookie.value) === profile.sessionId(planted.cookie.value);
      const showsVictim = (e: Exchange) => profile.isHit(e.status, e.body, user.identity);
      const rng = context.rng.fork(`fixation:${user.index}:${planted.preLogin ? 'pre-login' : 'logged-in'}`);
      // Whether the planted id now holds the victim's session: the id alone on every replica, or
      // the attacker's whole browser (its stickiness cookie takes it where the session lives).
      const victimBehind = async (alone?: Replay) =>
        ((alone ?? (await replay(context, user.index, jarsHolding(planted.cookie, origin), showsVictim))).shown > 0) || (await readsWithJar(context, user.index, planted.jar, showsVictim, 'some'));
      let after: Cookie | undefined;
      for (let tries = 0; tries < LOGINS_PER_REPLICA * all.length && after === undefined; tries++) {
        context.signal.throwIfAborted();
        const victimJar = copyJar(planted.jar, origin);
        const attempt = await logInAs(context, victimJar, user.identity, user.index);
        const login = attempt.lastStep;
        const cookie = sessionCookie(victimJar, origin, profile.cookieName);
        // A login that failed, or left the victim without a session, says nothing about fixation.
        if (!loginWentThrough(attempt) || cookie === undefined) {
          failedLogins++;
          return;
        }
        // A login counts where the planted session lives, or wherever its own answer set the
        // planted id (a replica that adopts an id it never issued fixes the victim's session as
        // surely); a kept id is then proven below by the victim's session behind it.
        if ((await planted.holds(login)) || attempt.exchanges.some(({ answer }) => setsValue(answer, profile.cookieName, planted.cookie.value))) after = cookie;
        // A replica that kept the id without saying so (a store it shares, or an id it adopted
        // quietly) is known by the victim's session behind the planted id; a login that merely
        // failed quietly shows nothing, and is sent again.
        else if (kept(cookie) && (await victimBehind())) after = cookie;
        // Answers that name no replica: sending the login again cannot find the holder.
        else if (login.replica === null) break;
        else {
          loginsElsewhere++;
          // Users retrying at once fall into lockstep with round robin (each request of a round
          // lands in the same place of the rotation every time): a random pause reshuffles them.
          await sleep(rng.int(RETRY_JITTER_MS), undefined, { signal: context.signal });
        }
      }
      if (after === undefined) {
        neverReachedHolder++;
        return;
      }
      // Only the planted id: whatever the victim's login did, it must not show the victim's data.
      const seen = await replay(context, user.index, jarsHolding(planted.cookie, origin), showsVictim);
      replays.push(seen);
      // A kept id is fixation when it now holds the victim's session; one that shows nothing of the
      // victim was left by a login that failed without saying so (a 200 page refusing it).
      if (kept(after)) {
        if (await victimBehind(seen)) unchanged++;
        else keptWithoutSession++;
      }
    };

    const tasks = context.users.map((user) => ({
      user: user.index,
      run: async () => {
        const plants = await plantedSessions(context, user);
        if (plants.length === 0) unplanted++;
        for (const planted of plants) await judge(user, planted);
      },
    }));
    await runInOrder(tasks, context.concurrency, context.signal);

    const merged = mergeReplays(replays);
    const judged = attempts - failedLogins - neverReachedHolder - keptWithoutSession;
    const evidence = {
      attempts,
      unplanted,
      idUnchangedAtLogin: unchanged,
      failedLogins,
      keptWithoutVictimSession: keptWithoutSession,
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
      failedLogins + keptWithoutSession > 0
        ? `${failedLogins + keptWithoutSession}/${attempts} victim logins failed, left no session cookie, or kept the planted id without the victim's session behind it`
        : neverReachedHolder > 0
          ? `${neverReachedHolder}/${attempts} victims' logins were not known to reach a replica holding the planted session (${LOGINS_PER_REPLICA * all.length} tries each where answers name their replica; none where they do not)`
          : reachedEveryReplica(merged, all)
            ? undefined
            : 'replays did not reach every replica';
    context.findings.push({
      id: 'session-fixation',
      title: TITLE,
      // A kept id or a read of the victim's data is proof enough; a clean result is only one if every login and replica was seen.
      passed: violated ? false : inconclusive === undefined ? true : null,
      summary:
        `the id stayed the same, now holding the victim's session, in ${unchanged}/${judged} logins over a planted id (a login counts where the planted session lives, or anywhere it kept the planted id); ` +
        `${merged.shown}/${merged.reads} reads with the planted id showed the victim's data${whereShown(merged)}` +
        (inconclusive && !violated ? `; not conclusive: ${inconclusive}` : ''),
      evidence,
    });
  },
});

const TITLE = 'a session id planted before login is replaced at login and then rejected';

interface Planted {
  /** The attacker's whole browser: the session cookie, the stickiness cookie, anything else. */
  jar: CookieJar;
  cookie: Cookie;
  preLogin: boolean;
  /** Whether the replica that answered a victim's login holds the planted session. */
  holds(login: Exchange): Promise<boolean>;
}

/**
 * Valid ids to plant: the cookie an app hands anybody before login (on the session read or the
 * login page), if it does, and (always) the
 * id of a session the attacker logged in to itself. Both are classic: an app may replace one and
 * keep the other (a lazily stored anonymous session is replaced at login, a live one kept).
 * Which replicas hold a plant: the one that issued it and, for a logged-in session (it shows its
 * owner), every replica a replay of it showed the attacker on. Where answers name no replica, a
 * login holds it only if there is one replica, every replay of the id alone showed it (a store
 * every replica shares), or every read with the attacker's whole browser did (its stickiness
 * cookie routes it there, as it will the victim's).
 */
async function plantedSessions(context: PhaseClient, user: VirtualUser): Promise<Planted[]> {
  const { profile } = context;
  const single = context.cluster.replicaIds.length === 1;
  const plants: Planted[] = [];
  const attacker = attackerIdentity(context.rng.fork(`attacker:${user.index}`), user, profile.accounts);

  // An anonymous visitor's cookie: from the session read, or from the login page (a GET of the
  // login's path, without its query, and only when the path names no user), where form logins
  // hand one out. A cookie that already reads as somebody is no anonymous one.
  const anonymous = new CookieJar();
  const probe = (e: Exchange): Outcome => (e.status === 0 ? 'error' : 'ok');
  let issuer = await context.send(anonymous, profile.read, user.index, (e) => classifyRead(e, profile.showsAnyUser(e.status, e.body)));
  // The login's first request: a login page, where the profile has steps.
  const first = profile.login[0]!;
  const loginPage = first.request(user.identity).path.split('?')[0]!;
  if (!sessionCookie(anonymous, context.origin, profile.cookieName) && loginPage === first.request(attacker).path.split('?')[0]) {
    issuer = await context.send(anonymous, { method: 'GET', path: loginPage, headers: {} }, user.index, probe);
  }
  const preLogin = sessionCookie(anonymous, context.origin, profile.cookieName);
  const anonymousShowsNobody = async () => {
    const check = await context.send(copyJar(anonymous, context.origin), profile.read, user.index, (e) => classifyRead(e, profile.showsAnyUser(e.status, e.body)));
    return !profile.showsAnyUser(check.status, check.body);
  };
  if (preLogin && (await anonymousShowsNobody())) {
    // An anonymous session shows nobody, so no read can tell which replicas hold it: where
    // answers name no replica, only a single replica is known to.
    plants.push({ jar: anonymous, cookie: preLogin, preLogin: true, holds: async (login) => (login.replica === null || issuer.replica === null ? single : login.replica === issuer.replica) });
  }

  const jar = new CookieJar();
  const login = (await logInAs(context, jar, attacker, user.index)).lastStep;
  const issued = sessionCookie(jar, context.origin, profile.cookieName);
  if (!issued) return plants;
  const shows = (e: Exchange) => profile.isHit(e.status, e.body, attacker);
  const seen = await replay(context, user.index, jarsHolding(issued, context.origin), shows);
  const holders = new Set([...seen.showingReplicas, ...(login.replica === null ? [] : [login.replica])]);
  // Asked only of a victim's login whose answer names no replica (the deployment's proxy names
  // none, or names only a client's first answer, as HAProxy's inserted cookie does).
  const holdsUnnamed = lazy(async () => single || (seen.reads > 0 && seen.shown === seen.reads) || (await readsWithJar(context, user.index, jar, shows, 'every')));
  plants.push({ jar, cookie: issued, preLogin: false, holds: async (victimLogin) => (victimLogin.replica === null ? holdsUnnamed() : holders.has(victimLogin.replica)) });
  return plants;
}

/** `make()`'s result, worked out on the first call only. */
function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/**
 * Reads carrying the whole of `jar` (its stickiness cookie too), at most 2 × replicas: whether
 * `every` one, or `some` one, showed what `shows` looks for. Stops once the answer is known.
 */
async function readsWithJar(context: PhaseClient, user: number, jar: CookieJar, shows: (exchange: Exchange) => boolean, quantifier: 'every' | 'some'): Promise<boolean> {
  for (let i = 0; i < 2 * context.cluster.replicaIds.length; i++) {
    const exchange = await context.send(copyJar(jar, context.origin), context.profile.read, user, (e) => classifyRead(e, shows(e)));
    const shown = shows(exchange);
    if (shown === (quantifier === 'some')) return shown;
  }
  return quantifier === 'every';
}

/** Whether an answer's own Set-Cookie gave `name` the value `value` (not one that deletes the cookie). */
function setsValue(exchange: Exchange, name: string, value: string): boolean {
  return exchange.setCookies.some((header) => {
    const cookie = parseSetCookie(header);
    if (cookie?.name !== name || cookie.value !== value) return false;
    const maxAge = cookie.attributes.get('max-age');
    const expires = cookie.attributes.get('expires');
    return !(maxAge !== undefined && Number(maxAge) <= 0) && !(expires !== undefined && Date.parse(expires) <= Date.now());
  });
}

/** A new browser holding every cookie of `jar` for `origin` (expired ones too: an attacker keeps what it copied). */
function copyJar(jar: CookieJar, origin: string): CookieJar {
  const copy = new CookieJar();
  for (const cookie of jar.getCookiesSync(origin, { expire: false })) copy.setCookieSync(cookie.toString(), origin);
  return copy;
}
