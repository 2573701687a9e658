import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultProxyControl } from './control.js';

// The process as the runtimes start it: standalone.ts bundled with esbuild the way
// scripts/bundle.mjs bundles it for the container image (dist/ may be mid-rebuild by others,
// and tsx is not installed), run by plain node, with and without an IPC channel.

let workDir: string;
let bundle: string;
let redis: ChildProcess;
let redisPort: number;
const started: ChildProcess[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'hactl-fault-proxy-'));
  bundle = path.join(workDir, 'fault-proxy.mjs');
  await build({
    entryPoints: [path.join(import.meta.dirname, 'standalone.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    banner: { js: "import { createRequire as __hactlCreateRequire } from 'node:module'; const require = __hactlCreateRequire(import.meta.url);" },
    logLevel: 'error',
  });
  redisPort = await freePort();
  redis = spawn('redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  const deadline = Date.now() + 5_000;
  while ((await ping(redisPort)) !== '+PONG') {
    if (Date.now() > deadline || redis.exitCode !== null) throw new Error(`redis-server did not answer on 127.0.0.1:${redisPort} within 5 s`);
    await sleep(20);
  }
});

afterAll(async () => {
  for (const child of [...started, redis]) {
    if (!child || child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Starts the bundled proxy; resolves with its first line of output, once it printed one. */
async function startProcess(env: Record<string, string>, ipc: boolean) {
  // NODE_EXTRA_CA_CERTS costs every Node start tens of milliseconds, and the proxy needs no CA.
  const { NODE_EXTRA_CA_CERTS: _unused, ...inherited } = process.env;
  const child = spawn(process.execPath, [bundle], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])] });
  started.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the fault proxy printed nothing within 5 s: ${output}`)), 5_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes('\n')) return;
      clearTimeout(timer);
      resolve(output.split('\n')[0]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  return { child, line, exited };
}

async function exitWithin(exited: Promise<number | null>, timeoutMs: number): Promise<number | null | 'still running'> {
  return Promise.race([exited, sleep(timeoutMs, 'still running' as const)]);
}

describe('the fault proxy process (bundled standalone.ts)', () => {
  it('listens, takes toxics over its admin API, and exits when its parent disconnects', async () => {
    const [listenPort, adminPort] = [await freePort(), await freePort()];
    const { child, line, exited } = await startProcess(
      {
        HACTL_FAULT_PROXY_LISTEN: `127.0.0.1:${listenPort}`,
        HACTL_FAULT_PROXY_UPSTREAM: `127.0.0.1:${redisPort}`,
        HACTL_FAULT_PROXY_ADMIN: `127.0.0.1:${adminPort}`,
      },
      true,
    );
    expect(line).toBe(`hactl fault proxy listening on 127.0.0.1:${listenPort} for 127.0.0.1:${redisPort}, admin API on http://127.0.0.1:${adminPort}`);
    const health = await request(`http://127.0.0.1:${adminPort}/health`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    expect(await ping(listenPort)).toBe('+PONG');

    const control = faultProxyControl(`http://127.0.0.1:${adminPort}`);
    await control.setToxic({ type: 'down' });
    expect(await control.toxic()).toEqual({ type: 'down' });
    expect(await ping(listenPort)).toBe('ECONNREFUSED');
    await control.setToxic(undefined);
    expect(await ping(listenPort)).toBe('+PONG');

    child.disconnect();
    expect(await exitWithin(exited, 3_000)).toBe(0);
  });

  it('exits on SIGTERM', async () => {
    const { child, exited } = await startProcess(
      { HACTL_FAULT_PROXY_LISTEN: '127.0.0.1:0', HACTL_FAULT_PROXY_UPSTREAM: `127.0.0.1:${redisPort}`, HACTL_FAULT_PROXY_ADMIN: '127.0.0.1:0' },
      false,
    );
    child.kill('SIGTERM');
    expect(await exitWithin(exited, 3_000)).toBe(0);
  });

  it('refuses a setting that is not host:port, in one line, with exit code 1', async () => {
    const { line, exited } = await startProcess(
      { HACTL_FAULT_PROXY_LISTEN: '127.0.0.1', HACTL_FAULT_PROXY_UPSTREAM: `127.0.0.1:${redisPort}`, HACTL_FAULT_PROXY_ADMIN: '127.0.0.1:0' },
      false,
    );
    expect(line).toBe('hactl fault proxy failed to start: HACTL_FAULT_PROXY_LISTEN=127.0.0.1 is not host:port; expected e.g. 127.0.0.1:7000');
    expect(await exitWithin(exited, 3_000)).toBe(1);
  });
});

/** One RESP PING on a fresh connection: the first reply line, or the connection's error code. */
function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const finish = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('no answer'), 1_000);
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes('\r\n')) finish(received.split('\r\n')[0]!);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.once('close', () => finish(received || 'closed'));
  });
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
