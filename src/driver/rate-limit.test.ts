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

  it('lets the first n go at once and the next only once the oldest is more than a second old (fake clock)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const limiter = new RateLimiter(3, () => Date.now());
    const signal = new AbortController().signal;
    const sent: number[] = [];
    const send = () => sent.push(Date.now());
    const all = Array.from({ length: 7 }, () => limiter.schedule(send, signal));
    expect(sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1_000);
    // Exactly a second after the first: a closed window would hold four.
    expect(sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5);
    expect(sent).toHaveLength(6);
    await vi.advanceTimersByTimeAsync(1_010);
    expect(sent).toHaveLength(7);
    await Promise.all(all);
    expect(busiestWindow(sent)).toBe(3);
    const start = sent[0]!;
    expect(sent.map((time) => time - start)).toEqual([0, 0, 0, 1001, 1001, 1001, 2002]);
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
    await vi.advanceTimersByTimeAsync(1_002);
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
    // 100 sends at 40 a second: the third batch cannot go before 2 s, and does not wait much longer.
    expect(performance.now() - started).toBeGreaterThan(2_000);
    expect(performance.now() - started).toBeLessThan(2_600);
  });

  it('refuses a rate that is not a positive whole number', () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError);
    expect(() => new RateLimiter(1.5)).toThrow(RangeError);
  });
});
