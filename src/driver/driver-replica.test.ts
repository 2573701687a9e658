import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAction, Driver } from './driver.js';
import { compileReplicaIdentity } from './replica-identity.js';

/** A real HTTP server standing in for a proxy: each path answers as one case of nginx would. */
let server: Server;
let origin: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const answers: Record<string, [number, Record<string, string | string[]>]> = {
      '/one': [200, { 'x-upstream': '127.0.0.1:18081', 'x-hactl-replica': 'replica-1' }],
      '/retried': [200, { 'x-upstream': '127.0.0.1:18081, 127.0.0.1:18082' }],
      '/bad-gateway': [502, { 'x-upstream': '127.0.0.1:18081, 127.0.0.1:18082' }],
      '/cookie': [200, { 'set-cookie': ['SID=1; Path=/', 'SERVERID=s3; Path=/'] }],
      '/tagged-twice': [200, { 'x-hactl-replica': ['replica-1', 'replica-2'] }],
    };
    const [status, headers] = answers[req.url ?? ''] ?? [404, {}];
    res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ replica: 'json-7' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function replicaOf(path: string, replica?: ReturnType<typeof compileReplicaIdentity>): Promise<string | null> {
  const controller = new AbortController();
  const driver = new Driver(origin, { scenario: 's', concurrency: 1, requestTimeoutMs: 2_000, signal: controller.signal, ...(replica ? { replica } : {}) });
  try {
    await driver.send(new CookieJar(), { method: 'GET', path }, { phase: 'p', kind: 'read', user: 0 }, classifyAction);
    return driver.samples[0]!.replica;
  } finally {
    await driver.close();
  }
}

describe("the driver's samples name the replica as the profile's source says", () => {
  it('reads a header source over real HTTP: last hop, none on a 502; the balancer tag is ignored then', async () => {
    const upstream = compileReplicaIdentity({ header: 'X-Upstream', names: { '127.0.0.1:18082': 'web-2' } });
    expect(await replicaOf('/one', upstream)).toBe('127.0.0.1:18081');
    expect(await replicaOf('/retried', upstream)).toBe('web-2');
    expect(await replicaOf('/bad-gateway', upstream)).toBeNull();
  });

  it('reads cookie and JSON sources', async () => {
    expect(await replicaOf('/cookie', compileReplicaIdentity({ cookie: 'SERVERID' }))).toBe('s3');
    expect(await replicaOf('/one', compileReplicaIdentity({ json: '$.replica', pattern: '\\d+' }))).toBe('7');
  });

  it("without a source, reads hactl's balancer's tag as before: a repeated tag names none", async () => {
    expect(await replicaOf('/one')).toBe('replica-1');
    expect(await replicaOf('/retried')).toBeNull();
    expect(await replicaOf('/tagged-twice')).toBeNull();
  });
});
