import { spawn, type ChildProcess } from 'node:child_process';
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

// A real redis-server behind a real proxy; the client is a raw socket speaking RESP, so that
// what the test sees is what the wire did (no client library retrying or buffering behind it).

let redis: { port: number; process: ChildProcess };
let proxy: TcpProxy;
const clients: Client[] = [];

beforeAll(async () => {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  redis = { port, process: child };
  const deadline = Date.now() + 5_000;
  for (;;) {
    const client = await connect(port).catch(() => undefined);
    const answered = client && (client.socket.write(command('PING')), await client.waitFor('+PONG\r\n', 500));
    client?.socket.destroy();
    if (answered !== undefined) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within 5 s`);
    await sleep(20);
  }
});

afterAll(async () => {
  const child = redis?.process;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
});

beforeEach(async () => {
  proxy = await startTcpProxy({ host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: redis.port } });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.destroy();
  await proxy.stop();
});

describe('the fault proxy in front of redis-server', () => {
  it('passes RESP through untouched and fast when no toxic is set', async () => {
    const client = await connect(proxy.port);
    client.socket.write(command('PING'));
    // How fast is a figure of the machine as much as of the proxy: bench/fault-proxy-latency.mjs
    // measures what the proxy adds to a round trip (it replaced a 150 ms wall-clock ceiling here).
    expect(await client.waitFor('+PONG\r\n', 1_000)).toBeDefined();
    expect(proxy.stats()).toMatchObject({ connections: 1, accepted: 1, listening: true, toxic: undefined });
  });

  it('latency 200 delays the answers of open and new connections by at least 200 ms, in order', async () => {
    const open = await connect(proxy.port);
    await proxy.setToxic({ type: 'latency', latencyMs: 200 });
    const fresh = await connect(proxy.port);
    for (const client of [open, fresh]) {
      const started = performance.now();
      client.socket.write(command('PING') + command('ECHO', 'second') + command('ECHO', 'third'));
      const at = await client.waitFor('+PONG\r\n$6\r\nsecond\r\n$5\r\nthird\r\n', 2_000);
      expect(at).toBeDefined();
      // Delayed once for the batch, not once per answer (600 ms): toxic-timing.test.ts times
      // that to the millisecond on a fake clock, where the 600 ms wall-clock ceiling went.
      expect(at! - started).toBeGreaterThanOrEqual(200);
      expect(client.text()).toBe('+PONG\r\n$6\r\nsecond\r\n$5\r\nthird\r\n');
    }
  });

  it('latency 100 ± 50 keeps every round trip within 50..150 ms (plus the loop)', async () => {
    await proxy.setToxic({ type: 'latency', latencyMs: 100, jitterMs: 50 });
    const client = await connect(proxy.port);
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      client.socket.write(command('ECHO', `n${i}`));
      const at = await client.waitFor(`$2\r\nn${i}\r\n`, 1_000);
      // Within latency + jitter: toxic-timing.test.ts, on a fake clock (was a 250 ms ceiling here).
      expect(at! - started).toBeGreaterThanOrEqual(50);
    }
  });

  it('removing latency hands on what it holds at once', async () => {
    await proxy.setToxic({ type: 'latency', latencyMs: 3_000 });
    const client = await connect(proxy.port);
    client.socket.write(command('PING'));
    await sleep(100);
    expect(client.text()).toBe('');
    await proxy.setToxic(undefined);
    // Long before the 3 s it was held for; at the very moment of removal on a fake clock in
    // toxic-timing.test.ts (was a 150 ms ceiling here).
    expect(await client.waitFor('+PONG\r\n', 1_000)).toBeDefined();
  });

  it('timeout 300 drops data and closes open and new connections about 300 ms later', async () => {
    const open = await connect(proxy.port);
    const setAt = performance.now();
    await proxy.setToxic({ type: 'timeout', timeoutMs: 300 });
    const fresh = await connect(proxy.port);
    const connectedAt = performance.now();
    for (const client of [open, fresh]) client.socket.write(command('PING'));
    const [openClosed, freshClosed] = await Promise.all([open.closed, fresh.closed]);
    // Not before the timeout; at exactly 300 ms on a fake clock in toxic-timing.test.ts (the
    // 800 ms ceilings went there).
    expect(openClosed.at - setAt).toBeGreaterThanOrEqual(290);
    expect(freshClosed.at - connectedAt).toBeGreaterThanOrEqual(280);
    expect(open.text() + fresh.text()).toBe('');
  });

  it('timeout 0 keeps connections open and silent; once removed, new connections work, and so do open ones that lost nothing', async () => {
    const idle = await connect(proxy.port);
    await proxy.setToxic({ type: 'timeout', timeoutMs: 0 });
    const hung = await connect(proxy.port);
    hung.socket.write(command('PING'));
    expect(await hung.waitFor('+PONG\r\n', 700)).toBeUndefined();
    expect(hung.isClosed() || idle.isClosed()).toBe(false);

    await proxy.setToxic(undefined);
    const fresh = await connect(proxy.port);
    fresh.socket.write(command('PING'));
    expect(await fresh.waitFor('+PONG\r\n', 1_000)).toBeDefined();
    // The hung connection lost its PING: it is out of step with its peer, so it is closed.
    expect((await hung.closed).code).toBeUndefined();
    idle.socket.write(command('PING'));
    expect(await idle.waitFor('+PONG\r\n', 1_000)).toBeDefined();
  });

  it('reset_peer resets open connections and new ones (ECONNRESET); removed, connections work again', async () => {
    const open = await connect(proxy.port);
    await proxy.setToxic({ type: 'reset_peer' });
    expect((await open.closed).code).toBe('ECONNRESET');

    const fresh = await connect(proxy.port).catch((error: NodeJS.ErrnoException) => error);
    const freshCode = fresh instanceof Error ? fresh.code : (await fresh.closed).code;
    expect(freshCode).toBe('ECONNRESET');

    await proxy.setToxic(undefined);
    const after = await connect(proxy.port);
    after.socket.write(command('PING'));
    expect(await after.waitFor('+PONG\r\n', 1_000)).toBeDefined();
  });

  it('reset_peer with timeoutMs lets data through, then resets', async () => {
    await proxy.setToxic({ type: 'reset_peer', timeoutMs: 300 });
    const connectedAt = performance.now();
    const client = await connect(proxy.port);
    client.socket.write(command('PING'));
    expect(await client.waitFor('+PONG\r\n', 200)).toBeDefined();
    const closed = await client.closed;
    expect(closed.code).toBe('ECONNRESET');
    // Not before the timeout; at exactly 300 ms in toxic-timing.test.ts (the 800 ms ceiling went there).
    expect(closed.at - connectedAt).toBeGreaterThanOrEqual(290);
  });

  it('down refuses new connections and closes open ones; removed, the same port works again', async () => {
    const port = proxy.port;
    const open = await connect(port);
    await proxy.setToxic({ type: 'down' });
    expect((await open.closed).code).toBeUndefined();
    expect(open.text()).toBe('');
    const refused = await connect(port).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).toBe('ECONNREFUSED');
    expect(proxy.stats()).toMatchObject({ listening: false, toxic: { type: 'down' } });
    // The store's side closes once redis-server has read the proxy's FIN.
    expect(await within(1_000, () => proxy.stats().connections === 0)).toBe(true);

    await proxy.setToxic(undefined);
    expect(proxy.port).toBe(port);
    const again = await connect(port);
    again.socket.write(command('PING'));
    expect(await again.waitFor('+PONG\r\n', 1_000)).toBeDefined();
    expect(proxy.stats()).toMatchObject({ listening: true, toxic: undefined });
  });

  it('a new toxic replaces the previous one', async () => {
    await proxy.setToxic({ type: 'down' });
    await proxy.setToxic({ type: 'latency', latencyMs: 150 });
    expect(proxy.toxic()).toEqual({ type: 'latency', latencyMs: 150 });
    const client = await connect(proxy.port);
    const started = performance.now();
    client.socket.write(command('PING'));
    const at = await client.waitFor('+PONG\r\n', 1_000);
    expect(at! - started).toBeGreaterThanOrEqual(150);
  });

  it('carries 4 MiB each way intact under latency and a reader that stalls (back-pressure)', async () => {
    await proxy.setToxic({ type: 'latency', latencyMs: 20 });
    const value = Buffer.alloc(4 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789').toString('latin1');
    const client = await connect(proxy.port);
    client.socket.write(command('SET', 'big', value));
    expect(await client.waitFor('+OK\r\n', 5_000)).toBeDefined();
    client.reset();
    client.socket.pause();
    client.socket.write(command('GET', 'big'));
    await sleep(300);
    client.socket.resume();
    const reply = `$${value.length}\r\n${value}\r\n`;
    expect(await client.waitFor(reply, 5_000)).toBeDefined();
    expect(client.text() === reply).toBe(true);
  });

  it('serves the redis npm client', async () => {
    await proxy.setToxic({ type: 'latency', latencyMs: 100 });
    const store = createClient({ socket: { host: '127.0.0.1', port: proxy.port, connectTimeout: 2_000, reconnectStrategy: false } });
    store.on('error', () => undefined);
    await store.connect();
    try {
      await store.set('through-the-proxy', 'yes');
      const started = performance.now();
      expect(await store.get('through-the-proxy')).toBe('yes');
      expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    } finally {
      store.destroy();
    }
  });

  it('a store that refuses connections shows as a reset to the client', async () => {
    const nowhere = await startTcpProxy({ host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: await freePort() } });
    try {
      const client = await connect(nowhere.port);
      client.socket.write(command('PING'));
      expect((await client.closed).code).toBe('ECONNRESET');
    } finally {
      await nowhere.stop();
    }
  });

  it('stop() closes the listener and every connection, promptly, even with data held', async () => {
    await proxy.setToxic({ type: 'latency', latencyMs: 5_000 });
    const client = await connect(proxy.port);
    client.socket.write(command('PING'));
    await sleep(50);
    const started = performance.now();
    await proxy.stop();
    expect(performance.now() - started).toBeLessThan(2_500);
    await client.closed;
    const refused = await connect(proxy.port).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).toBe('ECONNREFUSED');
  });
});

/** A raw connection that records what it received and how it ended. */
interface Client {
  socket: Socket;
  text(): string;
  /** Forgets what was received so far. */
  reset(): void;
  isClosed(): boolean;
  /** Resolves with the time `expected` has been received in full, or undefined after timeoutMs. */
  waitFor(expected: string, timeoutMs: number): Promise<number | undefined>;
  closed: Promise<{ at: number; code?: string }>;
}

function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    const chunks: Buffer[] = [];
    let closedAt: number | undefined;
    let code: string | undefined;
    const waiters = new Set<() => void>();
    const text = () => Buffer.concat(chunks).toString('latin1');
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      for (const waiter of waiters) waiter();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      code ??= error.code;
    });
    const closed = new Promise<{ at: number; code?: string }>((resolveClosed) => {
      socket.once('close', () => {
        closedAt = performance.now();
        resolveClosed({ at: closedAt, code });
      });
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      const client: Client = {
        socket,
        text,
        reset: () => void chunks.splice(0),
        isClosed: () => closedAt !== undefined,
        closed,
        waitFor: (expected, timeoutMs) =>
          new Promise((resolveWait) => {
            const check = () => {
              if (!text().includes(expected)) return;
              finish(performance.now());
            };
            const finish = (value: number | undefined) => {
              clearTimeout(timer);
              waiters.delete(check);
              resolveWait(value);
            };
            const timer = setTimeout(() => finish(undefined), timeoutMs);
            waiters.add(check);
            check();
          }),
      };
      clients.push(client);
      resolve(client);
    });
  });
}

async function within(timeoutMs: number, condition: () => boolean): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** A RESP command, as redis-cli would send it. */
function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg, 'latin1')}\r\n${arg}\r\n`).join('')}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
