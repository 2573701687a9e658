// What the fault proxy adds to a round trip, with no toxic and with a latency toxic: the
// figures tcp-proxy.test.ts used to bound by wall clock (a PING through it under 150 ms, a
// 200 ms latency under 600 ms), which on a loaded two-core machine measured the machine.
// The toxics' own timing is tested on a fake clock (src/faults/toxic-timing.test.ts).
//
//   node bench/fault-proxy-latency.mjs [--trips N] [--label L]
//
// An echo server on 127.0.0.1 stands for the store; N sequential round trips of a 16-byte
// message go to it directly, through the proxy, and through the proxy with latency 200.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = process.env.HACTL_DIST ?? path.join(root, 'dist');
const { startTcpProxy } = await import(path.join(dist, 'faults/tcp-proxy.js'));
const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const trips = Number(arg('--trips', '500'));
const label = arg('--label', undefined);

const echo = net.createServer((socket) => socket.pipe(socket));
await new Promise((resolve) => echo.listen(0, '127.0.0.1', resolve));
const proxy = await startTcpProxy({ host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: echo.address().port } });

/** Milliseconds of each of `count` round trips on one connection to `port`. */
async function roundTrips(port, count) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const times = [];
  let failTrip = () => {};
  socket.on('error', (error) => failTrip(error));
  try {
    for (let i = 0; i < count; i++) {
      const message = `trip ${String(i).padStart(11, '0')}`;
      const started = performance.now();
      await new Promise((resolve, reject) => {
        let got = '';
        const onData = (chunk) => {
          got += chunk.toString();
          if (got.length >= message.length) {
            socket.off('data', onData);
            resolve();
          }
        };
        failTrip = reject;
        socket.on('data', onData);
        socket.write(message);
      });
      times.push(performance.now() - started);
    }
  } finally {
    socket.destroy();
  }
  return times.sort((a, b) => a - b);
}

const rows = [];
try {
  const paths = [
    ['direct', echo.address().port, undefined, trips],
    ['fault proxy, no toxic', proxy.port, undefined, trips],
    ['fault proxy, latency 200', proxy.port, { type: 'latency', latencyMs: 200 }, Math.min(trips, 20)],
  ];
  for (const [name, port, toxic, count] of paths) {
    await proxy.setToxic(toxic);
    const times = await roundTrips(port, count);
    rows.push({ path: name, trips: count, p50Ms: +percentile(times, 50).toFixed(3), p99Ms: +percentile(times, 99).toFixed(3), maxMs: +times.at(-1).toFixed(3) });
  }
} finally {
  await proxy.stop();
  echo.close();
}

console.log(`load average ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}\n`);
console.log('| path | trips | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|');
for (const row of rows) console.log(`| ${row.path} | ${row.trips} | ${row.p50Ms} | ${row.p99Ms} | ${row.maxMs} |`);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(root, `bench/results/fault-proxy-latency${label ? `-${label}` : ''}.json`),
  `${JSON.stringify({ measuredAt: new Date().toISOString(), loadAverage: os.loadavg(), ...(label ? { label } : {}), rows }, null, 2)}\n`,
);
