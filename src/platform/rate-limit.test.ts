import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from './rate-limit.js';

/** The most sends any closed window of `windowMs` holds. */
function busiestWindow(times: readonly number[], windowMs = 1_000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while (sorted[to]! - sorted[from]! > windowMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

describe('RateLimiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spreads sends one every 1000/n ms, never more than n in a closed second (fake clock)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RateLimiter(3, () => Date.now());
    const signal = new AbortController().signal;
    const sent: number[] = [];
    const start = Date.now();
    const send = () => sent.push(Date.now() - start);
    const all = Array.from({ length: 7 }, () => limiter.schedule(send, signal));
    // The first at once; the next when its spacing (333 ms, up to 20 ms early) comes.
    expect(sent).toEqual([0]);
    await vi.advanceTimersByTimeAsync(3_000);
    await Promise.all(all);
    // The 4th would be due at 980 by spacing, but the 1st was sent at 0: it waits until more than a second (and the 50 ms margin for arrivals) has passed.
    expect(sent).toEqual([0, 314, 647, 1051, 1365, 1698, 2102]);
    expect(busiestWindow(sent)).toBe(3);
    // Arrivals at the deployment up to 50 ms later than their sends still fit: the margin is for that.
    expect(busiestWindow(sent, 1_050)).toBe(3);
  });

  it('lets an idle limiter send at once, and no more than a few ms of spacing early', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RateLimiter(100, () => Date.now());
    const signal = new AbortController().signal;
    const sent: number[] = [];
    const start = Date.now();
    const send = () => sent.push(Date.now() - start);
    await vi.advanceTimersByTimeAsync(5_000);
    const all = Array.from({ length: 10 }, () => limiter.schedule(send, signal));
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(all);
    // 10 ms apart at 100 a second; the tolerance lets the first three go together, then one per 10 ms.
    expect(sent.map((time) => time - 5_000)).toEqual([0, 0, 0, 10, 20, 30, 40, 50, 60, 70]);
  });

  it('keeps waiters in the order they came and returns what their send returned', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RateLimiter(1, () => Date.now());
    const signal = new AbortController().signal;
    const order: string[] = [];
    const results = ['a', 'b', 'c'].map((name) => limiter.schedule(() => (order.push(name), name.toUpperCase()), signal));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await Promise.all(results)).toEqual(['A', 'B', 'C']);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('an aborted waiter is never sent and leaves the queue; the others still go', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RateLimiter(1, () => Date.now());
    const sent: string[] = [];
    const run = new AbortController();
    const stopped = new AbortController();
    limiter.schedule(() => sent.push('first'), run.signal);
    const cut = limiter.schedule(() => sent.push('cut'), stopped.signal);
    const later = limiter.schedule(() => sent.push('later'), run.signal);
    expect(limiter.queued).toBe(2);
    stopped.abort(new Error('stop'));
    await expect(cut).rejects.toThrow('stop');
    expect(limiter.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1_100);
    await later;
    expect(sent).toEqual(['first', 'later']);
    // Already aborted: not even queued.
    expect(() => limiter.schedule(() => sent.push('never'), stopped.signal)).toThrow('stop');
  });

  it('listens once per signal however many of its requests wait, and an abort rejects them all', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RateLimiter(1, () => Date.now());
    const run = new AbortController();
    const listen = vi.spyOn(run.signal, 'addEventListener');
    const unlisten = vi.spyOn(run.signal, 'removeEventListener');
    limiter.schedule(() => 0, run.signal);
    const waiting = Array.from({ length: 20 }, (_, i) => limiter.schedule(() => i, run.signal));
    expect(listen).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_052);
    await expect(waiting[0]).resolves.toBe(0);
    const rest = Promise.allSettled(waiting.slice(1));
    run.abort(new Error('stop'));
    expect((await rest).every((result) => result.status === 'rejected' && (result.reason as Error).message === 'stop')).toBe(true);
    expect(limiter.queued).toBe(0);
    // A signal whose waiters all went is let go of.
    const other = new AbortController();
    const otherUnlisten = vi.spyOn(other.signal, 'removeEventListener');
    const one = limiter.schedule(() => 'x', other.signal);
    await vi.advanceTimersByTimeAsync(1_052);
    await expect(one).resolves.toBe('x');
    expect(otherUnlisten).toHaveBeenCalledTimes(1);
    expect(unlisten).not.toHaveBeenCalled();
  });

  it('a send that throws is not counted and rejects its waiter', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RateLimiter(1, () => Date.now());
    const signal = new AbortController().signal;
    limiter.schedule(() => 1, signal);
    const failing = limiter.schedule(() => {
      throw new Error('boom');
    }, signal);
    const next = limiter.schedule(() => 'next', signal);
    const failed = expect(failing).rejects.toThrow('boom');
    await vi.advanceTimersByTimeAsync(1_052);
    await failed;
    // The failed send took no place in the window: the next goes at once after it.
    await expect(next).resolves.toBe('next');
  });

  it('holds every sliding second to the rate with the real clock, many senders at once', async () => {
    const limiter = new RateLimiter(40);
    const signal = new AbortController().signal;
    const sent: number[] = [];
    const { performance } = await import('node:perf_hooks');
    const started = performance.now();
    await Promise.all(Array.from({ length: 100 }, () => limiter.schedule(() => sent.push(performance.now()), signal)));
    expect(sent).toHaveLength(100);
    expect(busiestWindow(sent)).toBeLessThanOrEqual(40);
    // 100 sends at 40 a second: the third batch cannot go before 2 s (and twice the margin), and does not wait much longer.
    expect(performance.now() - started).toBeGreaterThan(2_100);
    expect(performance.now() - started).toBeLessThan(2_600);
  });

  it('refuses a rate that is not a positive whole number', () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError);
    expect(() => new RateLimiter(1.5)).toThrow(RangeError);
  });
});
