import { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import { classifyAction, type Exchange } from '../driver.js';
import { forgeLike } from '../forge.js';
import { runInOrder } from '../order.js';
import { classifyRead, count, definePhase, evaluateCount } from '../phase.js';
import { attackerIdentity } from '../users.js';

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
    const { profile, driver } = context;
    const meta = (user: number) => ({ phase: context.phase, kind: context.kind, user });
    let attempts = 0;
    let readsShowingData = 0;
    let freshIdAtLogin = 0;
    let adopted = 0;

    const tasks = context.users.map((user) => ({
      user: user.index,
      run: async () => {
        const template = cookieValue(user.jar, driver.origin, profile.cookieName);
        // A user whose login failed has no id to imitate.
        if (template === undefined) return;
        attempts++;
        // A generator per user: users run concurrently, and a shared one would hand out values
        // in completion order, which no seed can repeat.
        const rng = context.rng.fork(`user:${user.index}`);
        const forged = forgeLike(template, rng);
        const onlyForged = () => jarHolding(profile.cookieName, forged, driver.origin);

        // Reads presenting only the forged id; a hit is an answer that shows any user's data.
        const readWithForged = async (): Promise<Exchange[]> => {
          const answers: Exchange[] = [];
          for (let i = 0; i < perUser; i++) {
            answers.push(await driver.send(onlyForged(), profile.read, meta(user.index), (e) => classifyRead(e, profile.showsAnyUser(e.status, e.body))));
          }
          return answers;
        };
        readsShowingData += (await readWithForged()).filter((e) => profile.showsAnyUser(e.status, e.body)).length;

        const attacker = attackerIdentity(rng, user, profile.accounts);
        const loginJar = onlyForged();
        await driver.send(loginJar, profile.login(attacker), meta(user.index), classifyAction);
        if (cookieValue(loginJar, driver.origin, profile.cookieName) !== forged) freshIdAtLogin++;
        // Adopted: the forged id alone now reads back as the attacker's logged-in session.
        if ((await readWithForged()).some((e) => profile.isHit(e.status, e.body, attacker))) adopted++;
      },
    }));
    await runInOrder(tasks, context.concurrency, context.signal);

    context.findings.push(
      {
        id: 'forged-id-read',
        title: 'a forged session id reads nothing',
        // No forged id to try (no login set the cookie to copy the shape of): nothing was shown.
        passed: attempts === 0 ? null : readsShowingData === 0,
        summary: attempts === 0 ? `not checked: no login set a ${profile.cookieName} cookie to forge an id like` : `${readsShowingData}/${attempts * perUser} reads with a forged id returned user data`,
        evidence: { forgedIds: attempts, reads: attempts * perUser, readsShowingData },
      },
      {
        id: 'forged-id-adopted',
        title: 'a forged session id is not adopted at login',
        passed: attempts === 0 ? null : adopted === 0,
        summary:
          attempts === 0
            ? `not checked: no login set a ${profile.cookieName} cookie to forge an id like`
            : `${adopted}/${attempts} forged ids were adopted at login; a fresh id was issued in ${freshIdAtLogin}/${attempts} logins`,
        evidence: { forgedIds: attempts, adopted, freshIdAtLogin },
      },
    );
  },
});

function jarHolding(name: string, value: string, origin: string): CookieJar {
  const jar = new CookieJar();
  jar.setCookieSync(`${name}=${value}; Path=/`, origin);
  return jar;
}

function cookieValue(jar: CookieJar, origin: string, name: string): string | undefined {
  return jar.getCookiesSync(origin).find((cookie) => cookie.key === name)?.value;
}
