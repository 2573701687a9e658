import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBalancerSettings, readHealthLine, readWorkerMessage } from './messages.js';
import { startProxy } from './proxy.js';
import { followBalancer } from './remote.js';
import type { BalancerSettings } from './settings.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => undefined)));
});

async function serve(host: string, handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

const SETTINGS: BalancerSettings = {
  host: '127.0.0.1',
  port: 0,
  targets: [{ id: 'replica-1', host: '127.0.0.1', port: 8080 }],
  algorithm: 'round_robin',
  stickiness: { type: 'off' },
  healthCheck: { path: '/health', intervalMs: 50, timeoutMs: 100, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200' },
  upstreamTimeoutMs: 5_000,
  connectTimeoutMs: 1_000,
  deregistrationDelayMs: 3_000,
};

describe('messages from a balancer hactl does not share memory with', () => {
  it('reads events, replies and the stop acknowledgement, and names what is wrong with anything else', () => {
    expect(readWorkerMessage({ type: 'health', targetId: 'replica-1', healthy: false, at: 5 })).toEqual({ kind: 'event', event: { type: 'health', targetId: 'replica-1', healthy: false, at: 5 } });
    expect(readWorkerMessage({ type: 'listening', port: 8080 })).toEqual({ kind: 'event', event: { type: 'listening', port: 8080 } });
    expect(readWorkerMessage({ type: 'stopped' })).toEqual({ kind: 'stopped' });
    expect(readWorkerMessage({ type: 'reply', requestId: 3, ok: true, result: { drainedMs: 12, abandoned: 0 } })).toEqual({
      kind: 'reply',
      reply: { type: 'reply', requestId: 3, ok: true, result: { drainedMs: 12, abandoned: 0 } },
    });
    expect(readWorkerMessage({ type: 'health', targetId: 'replica-1', healthy: 'no', at: 5 })).toEqual({ kind: 'bad', problem: expect.stringContaining('healthy') });
    expect(readWorkerMessage('garbage')).toMatchObject({ kind: 'bad' });
    // A reply that names its request fails that request rather than time out.
    expect(readWorkerMessage({ type: 'reply', requestId: 3, ok: true, result: { drainedMs: 'soon' } })).toEqual({ kind: 'bad', requestId: 3, problem: expect.stringContaining('result.drainedMs') });
  });

  it('reads a health line, and nothing from a line that is not one', () => {
    expect(readHealthLine('{"targetId":"replica-2","healthy":true,"at":7,"snapshot":true}')).toEqual({ targetId: 'replica-2', healthy: true, at: 7, snapshot: true });
    expect(readHealthLine('{"targetId":"replica-2","healthy":true')).toBeUndefined();
    expect(readHealthLine('{"targetId":"replica-2"}')).toBeUndefined();
    expect(readHealthLine(': keep-alive')).toBeUndefined();
  });

  it("checks the standalone balancer's settings and says in one line what is wrong and where", () => {
    // As compose files written before the matcher and the deregistration delay existed have them.
    const { deregistrationDelayMs: _delay, ...older } = SETTINGS;
    const olderJson = JSON.stringify({ ...older, healthCheck: { ...SETTINGS.healthCheck, matcher: undefined } });
    expect(parseBalancerSettings(olderJson)).toMatchObject({ host: '127.0.0.1', targets: SETTINGS.targets });
    expect(parseBalancerSettings(JSON.stringify({ ...SETTINGS, extra: 1 }))).toMatchObject({ extra: 1 });
    expect(() => parseBalancerSettings(undefined)).toThrow('HACTL_BALANCER_CONFIG is not set; expected the balancer settings as JSON');
    expect(() => parseBalancerSettings('{"host":')).toThrow(/^HACTL_BALANCER_CONFIG is not JSON \(.+\); expected the balancer settings as JSON$/);
    expect(() => parseBalancerSettings(JSON.stringify({ ...SETTINGS, targets: [{ id: 'replica-1', host: '127.0.0.1', port: '8080' }] }))).toThrow(
      /^HACTL_BALANCER_CONFIG is not valid balancer settings: targets\.0\.port: .*number/,
    );
    expect(() => parseBalancerSettings(JSON.stringify({ ...SETTINGS, algorithm: 'random' }))).toThrow(/^HACTL_BALANCER_CONFIG is not valid balancer settings: algorithm: /);
  });
});

describe('followBalancer, against an event stream and admin port that misbehave', () => {
  it('passes over a line that is not a health change and keeps following the stream', async () => {
    const bad: string[] = [];
    const port = await serve('127.0.0.1', (req, res) => {
      if (req.url !== '/events') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"targetId":"replica-1","healthy":true,"at":1,"snapshot":true}\n');
      res.write('{"targetId":"replica-1","healthy":tru\n');
      res.write('{"targetId":"replica-1","healthy":false,"at":2}\n');
    });
    const follower = await followBalancer({ url: 'http://127.0.0.1:1', eventsUrl: `http://127.0.0.1:${port}/events`, targetIds: ['replica-1'], onBadLine: (line) => bad.push(line) });
    cleanups.push(() => follower.stop());
    await follower.waitForHealth('replica-1', false, 2_000);
    expect(follower.isHealthy('replica-1')).toBe(false);
    expect(follower.failure()).toBeUndefined();
    expect(bad).toEqual(['{"targetId":"replica-1","healthy":tru']);
  });

  it('refuses a deregistration answered without a drain result, instead of passing the answer on as one', async () => {
    const port = await serve('127.0.0.1', (req, res) => {
      if (req.url === '/events') {
        res.writeHead(200);
        return void res.write('{"targetId":"replica-1","healthy":true,"at":1,"snapshot":true}\n');
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"drained":true}');
    });
    const follower = await followBalancer({ url: 'http://127.0.0.1:1', eventsUrl: `http://127.0.0.1:${port}/events`, targetIds: ['replica-1'], deregistrationDelayMs: 1_000 });
    cleanups.push(() => follower.stop());
    await expect(follower.deregister('replica-1')).rejects.toThrow(/^balancer container answered deregister replica-1 with no drain result \(drainedMs: .*\): \{"drained":true\}$/);
  });
});

describe('the proxy in front of an IPv6 target', () => {
  it('reaches a replica listening on [::1]', async () => {
    const replicaPort = await serve('::1', (req, res) => res.writeHead(200).end(req.url === '/health' ? '' : 'from ::1'));
    const proxy = await startProxy({ ...SETTINGS, targets: [{ id: 'replica-1', host: '::1', port: replicaPort }] }, () => {});
    cleanups.push(() => proxy.stop());
    const answer = await request(`http://127.0.0.1:${proxy.port}/`);
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.text()).toBe('from ::1');
  });
});
