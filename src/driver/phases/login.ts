import { z } from 'zod';
import { classifyAction } from '../driver.js';
import { runInOrder } from '../order.js';
import { definePhase } from '../phase.js';

export const login = definePhase({
  kind: 'login',
  description: "each user logs in once with the app profile's login request",
  options: z.strictObject({}),
  async run(context) {
    const order = context.rng.shuffle(context.users.map((user) => user.index));
    const tasks = order.map((index) => {
      const user = context.users[index]!;
      return {
        user: index,
        run: async () => {
          await context.driver.send(user.jar, context.profile.login(user.identity), { phase: context.phase, kind: context.kind, user: index }, classifyAction);
        },
      };
    });
    await runInOrder(tasks, context.concurrency, context.signal);
  },
});
