import type { Outlet, Stage } from './link.js';
import type { ToxicUnit } from './units.js';

/** Bytes a delayed direction may hold before its source is paused (back-pressure, not memory). */
const HELD_LIMIT_BYTES = 1 << 20;
const HOLD = 'latency';

/**
 * Toxiproxy's latency (toxics/latency.go): each chunk the store sends (the downstream stream,
 * Toxiproxy's default) is handed on latency ± jitter after it arrived, never before the chunk
 * ahead of it, so order is kept. Delaying one direction adds the latency once per round trip.
 * Removing it hands on what is held at once ("don't drop any data on the floor").
 */
export function latencyUnit(toxic: { latencyMs: number; jitterMs?: number; dropOnClose?: boolean }): ToxicUnit {
  const jitter = toxic.jitterMs ?? 0;
  const delay = () => Math.max(0, toxic.latencyMs + (jitter > 0 ? (Math.random() * 2 - 1) * jitter : 0));
  return {
    listens: true,
    attach(link) {
      link.route('downstream', (outlet) => new DelayStage(outlet, delay, toxic.dropOnClose === true));
      return () => link.route('downstream', undefined);
    },
  };
}

class DelayStage implements Stage {
  /** `chunk` undefined: the end of the stream, handed on in its turn. */
  private readonly queue: { due: number; chunk?: Buffer }[] = [];
  private heldBytes = 0;
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outlet: Outlet,
    private readonly delay: () => number,
    private readonly dropOnClose: boolean,
  ) {}

  write(chunk: Buffer): void {
    this.enqueue(chunk, performance.now() + this.delay());
    this.heldBytes += chunk.length;
    if (this.heldBytes > HELD_LIMIT_BYTES) this.outlet.hold(HOLD);
  }

  end(): void {
    if (this.dropOnClose) {
      // What is held never left the store: it dies with it.
      clearTimeout(this.timer);
      this.timer = undefined;
      this.queue.length = 0;
      this.heldBytes = 0;
      this.outlet.release(HOLD);
      this.outlet.end();
      return;
    }
    this.enqueue(undefined, performance.now());
  }

  remove(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.handOn(Infinity);
    this.outlet.release(HOLD);
  }

  private enqueue(chunk: Buffer | undefined, due: number): void {
    this.lastDue = Math.max(due, this.lastDue);
    this.queue.push({ due: this.lastDue, chunk });
    this.schedule();
  }

  private schedule(): void {
    const head = this.queue[0];
    if (this.timer || !head) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.handOn(performance.now());
      this.schedule();
    }, Math.max(0, head.due - performance.now()));
  }

  private handOn(until: number): void {
    while (this.queue.length > 0 && this.queue[0]!.due <= until) {
      const { chunk } = this.queue.shift()!;
      if (!chunk) {
        this.outlet.end();
        continue;
      }
      this.heldBytes -= chunk.length;
      this.outlet.write(chunk);
    }
    if (this.heldBytes <= HELD_LIMIT_BYTES / 2) this.outlet.release(HOLD);
  }
}
