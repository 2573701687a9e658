import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { latencyUnit } from './latency.js';
import type { Direction, Link, Outlet, Stage } from './link.js';
import { resetPeerUnit } from './reset-peer.js';
import { timeoutUnit } from './timeout.js';

/**
 * The toxics' timing on a fake clock: when each chunk is handed on, when a connection is closed
 * or reset, to the millisecond. The proxy over real sockets (tcp-proxy.test.ts) checks that the
 * toxics reach real connections; how long loopback I/O takes on a busy machine is not theirs.
 */
function fakeLink() {
  const handedOn: Array<{ at: number; text: string }> = [];
  const events: Array<{ at: number; what: string }> = [];
  const stages = new Map<Direction, Stage>();
  const outlet: Outlet = {
    write: (chunk) => handedOn.push({ at: performance.now(), text: chunk.toString() }),
    end: () => events.push({ at: performance.now(), what: 'end' }),
    hold: () => undefined,
    release: () => undefined,
  };
  const link = {
    route(direction: Direction, make: ((outlet: Outlet) => Stage) | undefined) {
      stages.get(direction)?.remove?.();
      if (make) stages.set(direction, make(outlet));
      else stages.delete(direction);
    },
    close: () => events.push({ at: performance.now(), what: 'close' }),
    reset: () => events.push({ at: performance.now(), what: 'reset' }),
  };
  const send = (direction: Direction, text: string) => {
    const stage = stages.get(direction);
    if (stage) stage.write(Buffer.from(text));
    else outlet.write(Buffer.from(text));
  };
  return { link: link as unknown as Link, send, handedOn, events };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'], now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('latency', () => {
  it('hands each chunk on latencyMs after it arrived, in order, and a batch once, not once per chunk', async () => {
    const { link, send, handedOn } = fakeLink();
    latencyUnit({ latencyMs: 200 }).attach(link);
    send('downstream', '+PONG\r\n');
    send('downstream', '$6\r\nsecond\r\n');
    await vi.advanceTimersByTimeAsync(50);
    send('downstream', '$5\r\nthird\r\n');
    await vi.advanceTimersByTimeAsync(149);
    expect(handedOn).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(handedOn).toEqual([
      { at: 200, text: '+PONG\r\n' },
      { at: 200, text: '$6\r\nsecond\r\n' },
    ]);
    await vi.advanceTimersByTimeAsync(50);
    expect(handedOn.map((chunk) => chunk.at)).toEqual([200, 200, 250]);
  });

  it('keeps every delay within latency ± jitter, and order when a later chunk draws a shorter one', async () => {
    const { link, send, handedOn } = fakeLink();
    // The extremes of Math.random's range, then the middle.
    const draws = [0, 0.999_999, 0.5];
    vi.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0.5);
    latencyUnit({ latencyMs: 100, jitterMs: 50 }).attach(link);
    send('downstream', 'a'); // 50 ms
    await vi.advanceTimersByTimeAsync(10);
    send('downstream', 'b'); // ~150 ms, due at ~160
    await vi.advanceTimersByTimeAsync(10);
    send('downstream', 'c'); // 100 ms: due at 120, but waits for b
    await vi.advanceTimersByTimeAsync(200);
    expect(handedOn.map((chunk) => chunk.text)).toEqual(['a', 'b', 'c']);
    expect(handedOn[0]!.at).toBe(50);
    expect(handedOn[1]!.at).toBeGreaterThanOrEqual(159);
    expect(handedOn[1]!.at).toBeLessThanOrEqual(160);
    expect(handedOn[2]!.at).toBe(handedOn[1]!.at);
  });

  it('leaves upstream alone, and hands on what it holds at once when removed', async () => {
    const { link, send, handedOn } = fakeLink();
    const remove = latencyUnit({ latencyMs: 3_000 }).attach(link);
    send('upstream', 'PING');
    expect(handedOn).toEqual([{ at: 0, text: 'PING' }]);
    send('downstream', '+PONG\r\n');
    await vi.advanceTimersByTimeAsync(100);
    remove();
    expect(handedOn).toEqual([
      { at: 0, text: 'PING' },
      { at: 100, text: '+PONG\r\n' },
    ]);
  });
});

describe('timeout', () => {
  it('drops data both ways and closes the connection exactly timeoutMs after it met the toxic', async () => {
    const { link, send, handedOn, events } = fakeLink();
    timeoutUnit({ timeoutMs: 300 }).attach(link);
    send('upstream', 'PING');
    send('downstream', '+PONG\r\n');
    await vi.advanceTimersByTimeAsync(299);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toEqual([{ at: 300, what: 'close' }]);
    expect(handedOn).toEqual([]);
  });

  it('0 never closes; removed, it closes only a connection that lost data', async () => {
    const quiet = fakeLink();
    timeoutUnit({ timeoutMs: 0 }).attach(quiet.link)();
    const lossy = fakeLink();
    const remove = timeoutUnit({ timeoutMs: 0 }).attach(lossy.link);
    lossy.send('upstream', 'PING');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lossy.events).toEqual([]);
    remove();
    expect(lossy.events).toEqual([{ at: 60_000, what: 'close' }]);
    expect(quiet.events).toEqual([]);
  });
});

describe('reset_peer', () => {
  it('resets at once, or exactly timeoutMs after meeting the connection, passing data until then', async () => {
    const now = fakeLink();
    resetPeerUnit({}).attach(now.link);
    expect(now.events).toEqual([{ at: 0, what: 'reset' }]);

    const later = fakeLink();
    resetPeerUnit({ timeoutMs: 300 }).attach(later.link);
    later.send('downstream', '+PONG\r\n');
    expect(later.handedOn).toEqual([{ at: 0, text: '+PONG\r\n' }]);
    await vi.advanceTimersByTimeAsync(299);
    expect(later.events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(later.events).toEqual([{ at: 300, what: 'reset' }]);
  });

  it('removed before its time, spares the connection', async () => {
    const { link, events } = fakeLink();
    resetPeerUnit({ timeoutMs: 300 }).attach(link)();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events).toEqual([]);
  });
});
