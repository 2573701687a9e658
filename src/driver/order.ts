/**
 * Runs tasks in exactly the given order, at most `concurrency` at a time, never two of one user
 * at once (a user waits for each answer, as a browser tab does). Sending strictly in order is
 * what makes a seeded run repeat its request order; a task whose user is still busy holds the
 * line until that user's answer arrives.
 */
export interface OrderedTask {
  user: number;
  run(): Promise<void>;
}

export async function runInOrder(tasks: readonly OrderedTask[], concurrency: number, signal: AbortSignal): Promise<void> {
  if (tasks.length === 0) return;
  signal.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const busy = new Set<number>();
    let next = 0;
    let inFlight = 0;
    let failed = false;
    const onAbort = () => fail(signal.reason);
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      signal.removeEventListener('abort', onAbort);
      reject(error);
    };
    const pump = () => {
      if (failed) return;
      if (next === tasks.length && inFlight === 0) {
        signal.removeEventListener('abort', onAbort);
        resolve();
        return;
      }
      while (next < tasks.length && inFlight < concurrency && !busy.has(tasks[next]!.user)) {
        const task = tasks[next++]!;
        busy.add(task.user);
        inFlight++;
        task.run().then(() => {
          busy.delete(task.user);
          inFlight--;
          pump();
        }, fail);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pump();
  });
}

/** Each user `perUser` times (or `perUser(user)` times), in a seeded shuffle. */
export function interleave(users: readonly number[], perUser: number | ((user: number) => number), shuffle: <T>(items: T[]) => T[]): number[] {
  const times = typeof perUser === 'number' ? () => perUser : perUser;
  const rounds = Math.max(0, ...users.map(times));
  const order: number[] = [];
  for (let round = 0; round < rounds; round++) order.push(...users.filter((user) => round < times(user)));
  return shuffle(order);
}
