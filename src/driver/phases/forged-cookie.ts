import { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import type { Exchange } from '../driver.js';
import { logInAs } from '../login-flow.js';
import { describeShape, fitsShape, forgeLike, learnShape, type IdShape } from '../forge.js';
import { runInOrder } from '../order.js';
import { classifyRead, count, definePhase, evaluateCount } from '../phase.js';
import type { Rng } from '../rng.js';
import { attackerIdentity } from '../users.js';
import { mergeReplays, reachedEveryReplica, replay, replayEvidence, whereShown, type Replay } from './security-replay.js';

/** Issued ids the forging learns from: enough to tell a fixed position (a prefix) from a random one. */
const IDS_TO_LEARN_FROM = 5;

/**
 * A random, well-formed session id must read nothing, and must not be adopted: logging in while
 * presenting it must not make the server store the new session under the attacker's chosen id
 * (session fixation through adoption).
 */
export const forgedCookie = definePhase({
  kind: 'forged-cookie',
  description: 'each user forges a random well-formed session id, reads with it, then logs in with it to test adoption',
  options: z.strictObject({ reads: count.prefault('2 * replicas') }),
  async run(context, options) {
    const perUser = evaluateCount(options.reads, context.counts);
    const { profile } = context;
    let attempts = 0;
    let readsShowingData = 0;
    let freshIdAtLogin = 0;
    let adopted = 0;
    /** Logins whose new id was the forged one, which a second forged id did not repeat. */
    let guessedAtLogin = 0;
    let fitting = 0;
    const forgedValues: string[] = [];
    const adoptionReplays: Replay[] = [];
    // Real ids, so that forged ids keep the positions the server's ids agree on and use the
    // characters the others do: every user's, and more logins' when the users are too few to tell.
    const issued = context.users.map((user) => cookieValue(user.jar, context.origin, profile.cookieName)).filter((value): value is string => value !== undefined);
    for (let extra = 0; issued.length > 0 && issued.length < IDS_TO_LEARN_FROM && extra < IDS_TO_LEARN_FROM; extra++) {
      context.signal.throwIfAborted();
      // As attackers: logging the users in again could end their sessions on an app that allows one per user.
      const user = context.users[extra % context.users.length]!;
      const jar = new CookieJar();
      await logInAs(context, jar, attackerIdentity(context.rng.fork(`shape:${extra}`), user, profile.accounts), user.index);
      const value = cookieValue(jar, context.origin, profile.cookieName);
      if (value !== undefined) issued.push(value);
    }
    const shape = learnShape(issued);

    const tasks = context.users.map((user) => ({
      user: user.index,
      run: async () => {
        const template = cookieValue(user.jar, context.origin, profile.cookieName);
        // A user whose login failed has no id to imitate.
        if (template === undefined) return;
        attempts++;
        // A generator per user: users run concurrently, and a shared one would hand out values
        // in completion order, which no seed can repeat.
        const rng = context.rng.fork(`user:${user.index}`);
        const forged = forgeLike(template, rng, shape);
        forgedValues.push(forged);
        // A value that could not pass for an issued id, or that is one, tests nothing: not sent.
        if (!fitsShape(forged, template, shape)) return;
        fitting++;
        const onlyForged = () => jarHolding(profile.cookieName, forged, context.origin);
        /** Logs in as an attacker presenting only `value`, then replays `value` alone: adopted if it reads back as that login's session. */
        const loginPresenting = async (value: string, from: Rng): Promise<{ fresh: boolean; adoption: Replay }> => {
          const attacker = attackerIdentity(from, user, profile.accounts);
          const presenting = () => jarHolding(profile.cookieName, value, context.origin);
          const loginJar = presenting();
          await logInAs(context, loginJar, attacker, user.index);
          const fresh = cookieValue(loginJar, context.origin, profile.cookieName) !== value;
          const adoption = await replay(context, user.index, presenting, (e) => profile.isHit(e.status, e.body, attacker));
          return { fresh, adoption };
        };

        // Reads presenting only the forged id; a hit is an answer that shows any user's data.
        const readWithForged = async (): Promise<Exchange[]> => {
          const answers: Exchange[] = [];
          for (let i = 0; i < perUser; i++) {
            answers.push(await context.send(onlyForged(), profile.read, user.index, (e) => classifyRead(e, profile.showsAnyUser(e.status, e.body))));
          }
          return answers;
        };
        readsShowingData += (await readWithForged()).filter((e) => profile.showsAnyUser(e.status, e.body)).length;

        const first = await loginPresenting(forged, rng);
        if (first.fresh) freshIdAtLogin++;
        if (first.adoption.shown === 0) {
          adoptionReplays.push(first.adoption);
          return;
        }
        // The server may have issued the forged value as its own next id: a predictable id
        // (replica, time, counter) that the forgery guessed. An adopting server takes a second
        // forged id too; a guess does not come true twice.
        const again = context.rng.fork(`confirm:${user.index}`);
        const second = forgeOther(template, forged, again, shape);
        const confirm = second === undefined ? undefined : await loginPresenting(second, again);
        if (confirm === undefined || confirm.adoption.shown > 0) {
          adopted++;
          adoptionReplays.push(first.adoption, ...(confirm ? [confirm.adoption] : []));
        } else {
          guessedAtLogin++;
          adoptionReplays.push(notShown(first.adoption), confirm.adoption);
        }
      },
    }));
    await runInOrder(tasks, context.concurrency, context.signal);

    const shapes = { issuedShape: describeShape(issued), forgedShape: describeShape(forgedValues) };
    // A forged id that could not pass for an issued one (no run of letters and digits to replace)
    // tests nothing: a server rejecting it says nothing about one of the right shape.
    const misfit = attempts > 0 && fitting === 0 ? `no forged id matched the shape of the issued ids (${shapes.issuedShape})` : undefined;
    const adoption = mergeReplays(adoptionReplays);
    const all = context.cluster.replicaIds;
    const adoptionInconclusive = misfit ?? (reachedEveryReplica(adoption, all) ? undefined : 'reads with the forged id did not reach every replica');

    context.findings.push(
      {
        id: 'forged-id-read',
        title: 'a forged session id reads nothing',
        // No forged id to try (no login set the cookie to copy the shape of): nothing was shown.
        passed: attempts === 0 ? null : readsShowingData > 0 ? false : misfit ? null : true,
        summary:
          attempts === 0
            ? `not checked: no login set a ${profile.cookieName} cookie to forge an id like`
            : `${readsShowingData}/${fitting * perUser} reads with a forged id (${shapes.forgedShape}) returned user data` + (misfit ? `; not conclusive: ${misfit}` : ''),
        evidence: { forgedIds: attempts, reads: fitting * perUser, readsShowingData, ...shapes, forgedIdsOfIssuedShape: fitting },
      },
      {
        id: 'forged-id-adopted',
        title: 'a forged session id is not adopted at login',
        // An adopted id is proof; a clean result is one only if the forged ids looked real and every replica was asked.
        passed: attempts === 0 ? null : adopted > 0 ? false : adoptionInconclusive ? null : true,
        summary:
          attempts === 0
            ? `not checked: no login set a ${profile.cookieName} cookie to forge an id like`
            : `${adopted}/${fitting} forged ids (${shapes.forgedShape}) were adopted at login${whereShown(adoption)}; a fresh id was issued in ${freshIdAtLogin}/${fitting} logins` +
              (guessedAtLogin > 0 ? `; ${guessedAtLogin} login${guessedAtLogin === 1 ? '' : 's'} issued the forged id as the server's own next id, which a second forged id did not repeat: guessed, not adopted (ids are predictable; see session-id-quality)` : '') +
              (adoptionInconclusive ? `; not conclusive: ${adoptionInconclusive}` : ''),
        evidence: { forgedIds: attempts, adopted, guessedAtLogin, freshIdAtLogin, ...shapes, forgedIdsOfIssuedShape: fitting, ...replayEvidence(adoption, all) },
      },
    );
  },
});

/** Another forged id like `template`, unlike `first`; undefined if the shape leaves no other (then the first stands alone). */
function forgeOther(template: string, first: string, rng: Rng, shape: IdShape): string | undefined {
  for (let tries = 0; tries < 8; tries++) {
    const forged = forgeLike(template, rng, shape);
    if (forged !== first && fitsShape(forged, template, shape)) return forged;
  }
  return undefined;
}

/** A replay's reach without what it showed: the answer was the server's own id, not an adoption. */
function notShown(replay: Replay): Replay {
  return { ...replay, shown: 0, showingReplicas: new Set() };
}

function jarHolding(name: string, value: string, origin: string): CookieJar {
  const jar = new CookieJar();
  jar.setCookieSync(`${name}=${value}; Path=/`, origin);
  return jar;
}

function cookieValue(jar: CookieJar, origin: string, name: string): string | undefined {
  return jar.getCookiesSync(origin).find((cookie) => cookie.key === name)?.value;
}
