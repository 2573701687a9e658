import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PhaseClient } from '../phase.js';
import { createRng } from '../rng.js';
import { readWhile, STOP_GRACE_MS } from './read.js';

/** One user whose every read takes 100 ms of (fake) time, and a count of the reads sent. */
function reading(signal = new AbortController().signal) {
  const startedAt = Date.now();
  const sent = { reads: 0 };
  const context = {
    phase: 'fault',
    kind: 'store-fault',
    users: [{ index: 0, jar: {}, identity: {} }],
    concurrency: 1,
    rng: createRng(1),
        now: () => Date.now() - startedAt,
    read: () =>
      new Promise((resolve) =>
        setTimeout(() => {
          sent.reads++;
          resolve({ status: 200, body: '' });
        }, 100),
      ),
    signal,
  } as unknown as PhaseClient;
  return { context, sent };
}

describe('readWhile: its timeout is a deadline', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('gives up on a work that never settles, STOP_GRACE_MS after its deadline, instead of waiting without bound', async () => {
    const { context, sent } = reading();
    const outcome = readWhile(context, () => new Promise<never>(() => {}), 1_000).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    await vi.advanceTimersByTimeAsync(1_000 + STOP_GRACE_MS + 200);
    await expect(Promise.race([outcome, 'still waiting'])).resolves.toBe(`phase fault: its work did not stop within ${STOP_GRACE_MS} ms of its 1000 ms deadline`);
    // Reading stopped at the deadline: a round of 100 ms at a time, not on through the grace.
    expect(sent.reads).toBe(10);
  });

  it('aborts the work at the deadline, and throws what the work threw', async () => {
    const { context, sent } = reading();
    let abortedAt: number | undefined;
    const outcome = readWhile(
      context,
      (signal) =>
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => {
            abortedAt = context.now();
            reject(signal.reason as Error);
          }),
        ),
      1_000,
    ).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    await vi.advanceTimersByTimeAsync(1_100);
    await expect(Promise.race([outcome, 'still waiting'])).resolves.toBe('phase fault: its work did not finish within 1000 ms');
    expect(abortedAt).toBe(1_000);
    expect(sent.reads).toBe(10);
  });

  it('aborts the work when the run is stopped', async () => {
    const run = new AbortController();
    const { context } = reading(run.signal);
    let aborted = false;
    const outcome = readWhile(context, (signal) => new Promise<never>(() => signal.addEventListener('abort', () => (aborted = true))), 60_000).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(250);
    run.abort(new Error('stopped'));
    await vi.advanceTimersByTimeAsync(STOP_GRACE_MS + 200);
    expect(aborted).toBe(true);
    expect(await Promise.race([outcome, 'still waiting'])).toBeInstanceOf(Error);
  });

  it("returns the work's value once it settles, and reading stops after that round", async () => {
    const { context, sent } = reading();
    const outcome = readWhile(context, () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), 450)), 10_000);
    await vi.advanceTimersByTimeAsync(500);
    await expect(Promise.race([outcome, 'still waiting'])).resolves.toBe('done');
    expect(sent.reads).toBe(5);
  });
});
