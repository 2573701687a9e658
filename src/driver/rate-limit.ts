import { performance } from 'node:perf_hooks';

/** The window --rate counts requests in. */
const WINDOW_MS = 1_000;

interface Waiter {
  go(): void;
  signal: AbortSignal;
  onAbort(): void;
}

/**
 * --rate: at most `perSecond` requests sent in any sliding second, however many drivers of the
 * run send them. It keeps the send times of the last `perSecond` requests; the next may go once
 * the oldest of them was sent more than a second ago, so no window of one second (closed at both
 * ends) ever holds more than `perSecond` sends.
 *
 * A request's send is run by the limiter itself, synchronously when its turn comes, and its time
 * is taken after the send returns: a sample's own send time (taken inside it) is then never later
 * than what the limiter counted, so the guarantee holds for the times the samples record too.
 * Waiters go in the order they came; one timer serves them all.
 */
export class RateLimiter {
  /** Send times of the last `perSecond` requests, a ring; `next` is the oldest once it is full. */
  private readonly sent: Float64Array;
  private next = 0;
  private filled = 0;
  private readonly waiting: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly perSecond: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!Number.isSafeInteger(perSecond) || perSecond < 1) throw new RangeError(`rate: expected a positive whole number, got ${perSecond}`);
    this.sent = new Float64Array(perSecond);
  }

  /**
   * Runs `send` as soon as the rate allows, and gives back what it returned. Rejects with the
   * signal's reason when it is aborted first (the request is then never sent).
   */
  schedule<T>(send: () => T, signal: AbortSignal): T | Promise<T> {
    if (this.waiting.length === 0 && this.free()) return this.go(send);
    signal.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        signal,
        go: () => {
          signal.removeEventListener('abort', waiter.onAbort);
          try {
            resolve(this.go(send));
          } catch (error) {
            reject(error);
          }
        },
        onAbort: () => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          if (this.waiting.length === 0) this.stopTimer();
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
      this.pump();
    });
  }

  /** Requests waiting for their turn. */
  get queued(): number {
    return this.waiting.length;
  }

  private free(): boolean {
    return this.filled < this.perSecond || this.clock() - this.sent[this.next]! > WINDOW_MS;
  }

  private go<T>(send: () => T): T {
    const result = send();
    this.sent[this.next] = this.clock();
    this.next = (this.next + 1) % this.perSecond;
    if (this.filled < this.perSecond) this.filled++;
    return result;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.free()) this.waiting.shift()!.go();
    if (this.waiting.length === 0 || this.timer !== undefined) return;
    // The oldest send leaves the window just after this; +1 for the "more than a second" edge.
    const delay = Math.max(1, Math.ceil(this.sent[this.next]! + WINDOW_MS - this.clock()) + 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
