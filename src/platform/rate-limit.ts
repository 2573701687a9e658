import { performance } from 'node:perf_hooks';

/** The window --rate counts requests in. */
const WINDOW_MS = 1_000;

/**
 * How much longer than a second the limiter keeps a send in its window. The rate holds at the
 * deployment, which sees arrivals, not sends: a request on a new connection arrives a handshake
 * after its send, one on a kept-alive connection at once, so sends a second apart can arrive a
 * few ms less than a second apart. The margin absorbs that difference (a few ms on one host, tens
 * across a network), at the cost of a rate at most 5% under --rate.
 */
const ARRIVAL_MARGIN_MS = 50;

/**
 * How far ahead of its even spacing a send may go: enough to catch up on a timer that fired a
 * little late (the average rate holds), too little to bunch a second's budget into a burst.
 */
const PACING_TOLERANCE_MS = 20;

interface Waiter {
  go(): void;
  fail(reason: unknown): void;
  signal: AbortSignal;
}

/** One abort listener per signal, however many of its requests wait (a listener each would be a leak warning at 11). */
interface Watch {
  onAbort(): void;
  waiting: number;
}

/**
 * --rate: at most `perSecond` requests sent in any sliding second, however many drivers of the
 * run send them. It keeps the send times of the last `perSecond` requests; the next may go once
 * the oldest of them was sent more than a second (and ARRIVAL_MARGIN_MS) ago, so no window of one
 * second (closed at both ends) ever holds more than `perSecond` sends, nor, within the margin's
 * jitter, arrivals at the deployment.
 *
 * Within that bound, sends are also spread evenly, one every 1000/perSecond ms (a generic cell
 * rate: a send may come at most PACING_TOLERANCE_MS early): a second's budget spent in one burst
 * would leave the rest of the second silent, and a replica killed in that silence would meet no
 * user, so that a failover phase would measure no errors where steady traffic has them.
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
  /** When the next send is due by even spacing (the cell rate's theoretical arrival time). */
  private due = Number.NEGATIVE_INFINITY;
  private readonly spacingMs: number;
  private waiting: Waiter[] = [];
  private readonly watches = new Map<AbortSignal, Watch>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly perSecond: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!Number.isSafeInteger(perSecond) || perSecond < 1) throw new RangeError(`rate: expected a positive whole number, got ${perSecond}`);
    this.sent = new Float64Array(perSecond);
    this.spacingMs = WINDOW_MS / perSecond;
  }

  /**
   * Runs `send` as soon as the rate allows, and gives back what it returned. Rejects with the
   * signal's reason when it is aborted first (the request is then never sent).
   */
  schedule<T>(send: () => T, signal: AbortSignal): T | Promise<T> {
    if (this.waiting.length === 0 && this.free()) return this.go(send);
    signal.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({
        signal,
        go: () => {
          this.unwatch(signal);
          try {
            resolve(this.go(send));
          } catch (error) {
            reject(error);
          }
        },
        fail: reject,
      });
      this.watch(signal);
      this.pump();
    });
  }

  private watch(signal: AbortSignal): void {
    const watch = this.watches.get(signal);
    if (watch) {
      watch.waiting++;
      return;
    }
    const onAbort = () => {
      this.watches.delete(signal);
      const aborted = this.waiting.filter((waiter) => waiter.signal === signal);
      this.waiting = this.waiting.filter((waiter) => waiter.signal !== signal);
      if (this.waiting.length === 0) this.stopTimer();
      for (const waiter of aborted) waiter.fail(signal.reason);
    };
    this.watches.set(signal, { onAbort, waiting: 1 });
    signal.addEventListener('abort', onAbort, { once: true });
  }

  private unwatch(signal: AbortSignal): void {
    const watch = this.watches.get(signal);
    if (!watch || --watch.waiting > 0) return;
    this.watches.delete(signal);
    signal.removeEventListener('abort', watch.onAbort);
  }

  /** Requests waiting for their turn. */
  get queued(): number {
    return this.waiting.length;
  }

  private free(): boolean {
    const now = this.clock();
    return now >= this.due - PACING_TOLERANCE_MS && (this.filled < this.perSecond || now - this.sent[this.next]! > WINDOW_MS + ARRIVAL_MARGIN_MS);
  }

  private go<T>(send: () => T): T {
    const result = send();
    const now = this.clock();
    this.due = Math.max(this.due, now) + this.spacingMs;
    this.sent[this.next] = now;
    this.next = (this.next + 1) % this.perSecond;
    if (this.filled < this.perSecond) this.filled++;
    return result;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.free()) this.waiting.shift()!.go();
    if (this.waiting.length === 0 || this.timer !== undefined) return;
    // The next send's turn by spacing, or (+1 for the "more than" edge) when the oldest send leaves the window.
    const now = this.clock();
    const windowFree = this.filled < this.perSecond ? now : this.sent[this.next]! + WINDOW_MS + ARRIVAL_MARGIN_MS + 1;
    const delay = Math.max(1, Math.ceil(Math.max(this.due - PACING_TOLERANCE_MS, windowFree) - now));
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
