import net from 'node:net';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../platform/errors.js';
import { serveAdmin, type AdminServer } from './admin.js';
import { faultProxyControl } from './control.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import type { Toxic } from './toxics.js';

// The admin API and its client, in-process: what the toxics do to data is tcp-proxy.test.ts's
// business; here the proxy's upstream need not even exist.

let proxy: TcpProxy;
let admin: AdminServer;
let adminUrl: string;

beforeEach(async () => {
  proxy = await startTcpProxy({ host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: await freePort() } });
  admin = await serveAdmin(proxy, { host: '127.0.0.1', port: 0 });
  adminUrl = `http://127.0.0.1:${admin.port}`;
});

afterEach(async () => {
  await admin.close();
  await proxy.stop();
});

describe('the fault proxy admin API', () => {
  it('GET /health answers 200 with the counters', async () => {
    const response = await request(`${adminUrl}/health`);
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({ status: 'ok', connections: 0, accepted: 0, received: 0, listening: true });
  });

  it('sets, reads and removes the toxic through faultProxyControl', async () => {
    const control = faultProxyControl(`${adminUrl}/`);
    expect(await control.toxic()).toBeUndefined();
    await control.setToxic({ type: 'latency', latencyMs: 200, jitterMs: 20 });
    expect(proxy.toxic()).toEqual({ type: 'latency', latencyMs: 200, jitterMs: 20 });
    expect(await control.toxic()).toEqual({ type: 'latency', latencyMs: 200, jitterMs: 20 });
    await control.setToxic({ type: 'down' });
    expect(await refused(proxy.port)).toBe(true);
    await control.setToxic(undefined);
    expect(await control.toxic()).toBeUndefined();
    expect(await refused(proxy.port)).toBe(false);
  });

  it('refuses an invalid toxic with 400 and a one-line reason, and leaves the current one alone', async () => {
    await proxy.setToxic({ type: 'timeout', timeoutMs: 0 });
    for (const body of ['{"type":"latency"}', '{"type":"slicer"}', 'latency 200', '']) {
      const response = await request(`${adminUrl}/toxic`, { method: 'PUT', body, headers: { 'content-type': 'application/json' } });
      const reason = await response.body.text();
      expect(response.statusCode, body).toBe(400);
      expect(reason.trim()).not.toContain('\n');
      expect(reason.length).toBeGreaterThan(10);
    }
    expect(proxy.toxic()).toEqual({ type: 'timeout', timeoutMs: 0 });

    const error = await faultProxyControl(adminUrl)
      .setToxic({ type: 'latency', latencyMs: -5 } as Toxic)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toContain(adminUrl);
    expect((error as Error).message).toContain('HTTP 400');
    expect((error as Error).message).toContain('latencyMs');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const missing = await request(`${adminUrl}/proxies`);
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.text()).toContain('/toxic');
    const wrong = await request(`${adminUrl}/toxic`, { method: 'POST', body: '{}' });
    expect(wrong.statusCode).toBe(405);
    expect(await wrong.body.text()).toContain('PUT');
  });

  it('faultProxyControl names the URL when nothing answers there', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const error = await faultProxyControl(nowhere)
      .setToxic({ type: 'down' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toContain(nowhere);
    expect(Date.now() - started).toBeLessThan(5_500);
  });
});

/** Whether a TCP connection to the port is refused (the proxy is down) rather than accepted. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
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
