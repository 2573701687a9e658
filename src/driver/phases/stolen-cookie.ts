import { z } from 'zod';
import { interleave, runInOrder } from '../order.js';
import { count, definePhase, evaluateCount } from '../phase.js';

/**
 * The write-up's manual test: another client sends user B's cookies and reads B's session. A
 * session id is a bearer token, so this is expected to work on every strategy; the finding
 * records how often it did.
 */
export const stolenCookie = definePhase({
  kind: 'stolen-cookie',
  description: "each user replays the next user's cookies and reads the victim's session",
  options: z.strictObject({ reads: count.prefault('2 * replicas') }),
  async run(context, options) {
    const perUser = evaluateCount(options.reads, context.counts);
    const { users } = context;
    // The attacker copies every cookie the victim's browser holds (the stickiness cookie too).
    const stolen = users.map((_, index) => users[(index + 1) % users.length]!);
    const jars = stolen.map((victim) => victim.jar.cloneSync());
    const readVictim = new Set<number>();
    const order = interleave(users.map((user) => user.index), perUser, context.rng.shuffle);
    await runInOrder(
      order.map((index) => ({
        user: index,
        run: async () => {
          const victim = stolen[index]!;
          const exchange = await context.read(index, jars[index]!, victim.identity);
          if (context.profile.isHit(exchange.status, exchange.body, victim.identity)) readVictim.add(index);
        },
      })),
      context.concurrency,
      context.signal,
    );
    context.findings.push({
      id: 'stolen-cookie',
      title: 'stolen session cookie replayed by another client',
      passed: null,
      fact: true,
      summary: `${readVictim.size}/${users.length} stolen cookies read the victim's data (a session id is a bearer token)`,
      evidence: { attempts: users.length, readVictimData: readVictim.size, readsPerAttempt: perUser },
    });
  },
});
