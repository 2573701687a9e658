import { CookieJar } from 'tough-cookie';
import { z } from 'zod';
import { idQuality } from '../id-quality.js';
import { logInAs } from '../login-flow.js';
import { runInOrder } from '../order.js';
import { definePhase } from '../phase.js';
import { sessionCookie } from './security-replay.js';

/** OWASP ASVS 3.2.2: at least 64 bits of entropy in a session id; a sample can show less, never prove more. */
const MIN_ENTROPY_BITS = 64;

/**
 * Fewer ids than this leave the per-position estimate too noisy (and biased low) to tell 64 bits
 * apart: a smaller sample (--id-sample) can still show duplicates, but judges no entropy.
 */
export const CONCLUSIVE_ID_SAMPLE = 1_000;

/** --id-sample's bounds: a sample smaller than 30 shows nothing, not even a telling duplicate. */
export const ID_SAMPLE_RANGE = { min: 30, max: 100_000 } as const;

/**
 * Session ids must be unguessable: many logins, each with a fresh jar (so each gets a new id),
 * and the ids judged by src/metrics/id-quality.ts.
 */
export const securityIdQuality = definePhase({
  kind: 'security-id-quality',
  description: 'logs in many times with fresh cookie jars and estimates the entropy of the session ids issued; counts duplicates',
  options: z.strictObject({ ids: z.number().int().min(CONCLUSIVE_ID_SAMPLE).max(ID_SAMPLE_RANGE.max).default(CONCLUSIVE_ID_SAMPLE) }),
  async run(context, options) {
    const { profile, users } = context;
    const sample = context.idSample ?? options.ids;
    const ids: string[] = [];
    let failed = 0;
    const tasks = Array.from({ length: sample }, (_, attempt) => {
      const user = users[attempt % users.length]!;
      return {
        user: user.index,
        run: async () => {
          const jar = new CookieJar();
          await logInAs(context, jar, user.identity, user.index);
          const cookie = sessionCookie(jar, context.origin, profile.cookieName);
          if (cookie) ids.push(profile.sessionId(cookie.value));
          else failed++;
        },
      };
    });
    await runInOrder(tasks, context.concurrency, context.signal);

    const quality = idQuality(ids);
    const bits = Math.round(quality.entropyBits * 10) / 10;
    const length = quality.minLength === quality.maxLength ? `${quality.minLength}` : `${quality.minLength}-${quality.maxLength}`;
    const evidence = {
      logins: sample,
      ids: quality.count,
      loginsWithoutId: failed,
      length,
      alphabet: `${quality.alphabet.name} (${quality.alphabet.size} symbols, ${quality.characters.length} seen)`,
      entropyBits: bits,
      duplicates: quality.duplicates,
    };
    const allIds = quality.count >= sample;
    const enough = allIds && sample >= CONCLUSIVE_ID_SAMPLE;
    const inconclusive = !allIds ? `${failed}/${sample} logins yielded no id` : !enough ? `a sample of ${sample} ids is too small to judge entropy (${CONCLUSIVE_ID_SAMPLE} needed)` : undefined;
    const weak = quality.duplicates > 0 || (enough && quality.entropyBits < MIN_ENTROPY_BITS);
    context.findings.push({
      id: 'session-id-quality',
      // What a sample can show: a weak generator's traces, not a strong one's strength (a hash of a counter scores as high as random bytes).
      title: `session ids show no sign of weakness (estimated entropy at least ${MIN_ENTROPY_BITS} bits, no repeats)`,
      // Too few ids judge nothing either way, unless those few already repeat.
      passed: weak ? false : enough ? true : null,
      summary:
        `${weak ? 'weak ids: ' : enough ? 'no evidence of weak ids: ' : ''}${quality.count} ids from ${sample} logins, length ${length}, ${quality.alphabet.name}: about ${bits} bits estimated, ${quality.duplicates} duplicates` +
        (inconclusive ? `; not conclusive: ${inconclusive}` : '') +
        (weak || !enough ? '' : '; ids derived from something predictable (a hash of a counter or a time) would look the same'),
      evidence,
    });
  },
});
