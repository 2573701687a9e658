import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** No single probe may take longer than this, whatever it waits on. */
const PROBE_LIMIT_MS = 5_000;

/**
 * Polls `probe` until it returns a value other than undefined, or throws `onTimeout()` once
 * `timeoutMs` has passed. Every wait in hactl is bounded; this is the one loop they share.
 * Each attempt is bounded too, by a timer that keeps the process alive: a probe stuck on a
 * socket that will never answer counts as "not yet" instead of hanging the wait.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs: number; signal?: AbortSignal; onTimeout: () => Error },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await settleWithin(Promise.resolve(probe()), Math.min(PROBE_LIMIT_MS, Math.max(1, deadline - Date.now())), undefined);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw options.onTimeout();
    await sleep(options.intervalMs, undefined, { signal: options.signal });
  }
}

/**
 * The promise's value, or `fallback` once `limitMs` has passed. Unlike withTimeout, the timer
 * keeps the process alive: an attempt waiting on a socket that will never answer still ends.
 */
export async function settleWithin<T, F>(promise: Promise<T>, limitMs: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), limitMs);
  });
  try {
    return await Promise.race([promise, giveUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** Races a promise against a deadline; the timer never keeps the process alive. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
