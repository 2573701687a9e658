import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../platform/errors.js';
import { freePorts } from '../platform/ports.js';
import { checkTarget, noAnswerReason } from './target-check.js';

describe('why a request got no answer', () => {
  it('says what the code means, then the code', () => {
    expect(noAnswerReason(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 5000)).toBe('connection refused (ECONNREFUSED)');
    expect(noAnswerReason(Object.assign(new Error('fetch failed'), { cause: { code: 'ENOTFOUND' } }), 5000)).toBe('host not found (ENOTFOUND)');
    expect(noAnswerReason(Object.assign(new Error('odd'), { code: 'EWHATEVER' }), 5000)).toBe('odd (EWHATEVER)');
    expect(noAnswerReason(new DOMException('signal timed out', 'TimeoutError'), 1500)).toBe('no answer within 1500 ms');
  });
});

/** Real HTTP on 127.0.0.1: a health path that answers what each test sets. */
describe('the start check of an external target', () => {
  let server: Server;
  let origin: string;
  let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: 'ok' };
  beforeAll(async () => {
    server = createServer((_request, response) => {
      setTimeout(() => response.writeHead(answer.status).end(answer.body), answer.delayMs ?? 0);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('passes on 2xx', async () => {
    answer = { status: 204, body: '' };
    await expect(checkTarget(`${origin}/healthz`)).resolves.toEqual({ status: 204 });
  });

  it('fails on another status, with the start of the body', async () => {
    answer = { status: 503, body: '<html>  no healthy upstream </html>' };
    await expect(checkTarget(`${origin}/healthz`)).rejects.toThrow(new EnvironmentError(`${origin}/healthz answered 503 "<html> no healthy upstream </html>", not 2xx`));
  });

  it('fails where nothing listens, and when no answer comes in time', async () => {
    const [port] = await freePorts(1);
    await expect(checkTarget(`http://127.0.0.1:${port}/health`)).rejects.toThrow(`http://127.0.0.1:${port}/health: connection refused (ECONNREFUSED)`);
    answer = { status: 200, body: 'ok', delayMs: 1_000 };
    await expect(checkTarget(`${origin}/health`, { timeoutMs: 200 })).rejects.toThrow(`${origin}/health: no answer within 200 ms`);
  });
});
