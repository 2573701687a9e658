import { errorMessage } from './errors.js';

/** One part of a row's deployment to stop, named as a failure to stop it would name it. */
export interface TeardownStep {
  what: string;
  stop: () => Promise<unknown> | undefined;
}

/**
 * Stops every part, in order, each whatever became of the ones before: a replica whose orphan
 * would not go must not leave the balancer or the store's fault proxy running, nor end the run
 * without its report. Each stop bounds its own wait; what failed comes back as one line per part.
 */
export async function stopEach(steps: readonly TeardownStep[]): Promise<string[]> {
  const failures: string[] = [];
  for (const step of steps) {
    try {
      await step.stop();
    } catch (error) {
      failures.push(`stopping ${step.what} failed: ${errorMessage(error)}`);
    }
  }
  return failures;
}
