import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Client, type Http1Request } from './http1-client.js';
import type { Http1Response } from './http1-response.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** A node:http server that echoes what it got, and counts the connections it was opened. */
async function echoServer(options: { keepAliveTimeout?: number; delayMs?: number } = {}) {
  const seen = { connections: 0, inFlight: 0, mostInFlight: 0 };
  const server = http.createServer((req, res) => {
    seen.inFlight++;
    seen.mostInFlight = Math.max(seen.mostInFlight, seen.inFlight);
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () =>
      setTimeout(() => {
        seen.inFlight--;
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(parts).toString('utf8') }));
      }, options.delayMs ?? 0),
    );
  });
  server.keepAliveTimeout = options.keepAliveTimeout ?? 5_000;
  server.on('connection', () => seen.connections++);
  const origin = await listen(server);
  return { origin, seen, server };
}

function client(origin: string, connections = 4): Http1Client {
  const made = new Http1Client(origin, connections);
  cleanups.push(() => made.close());
  return made;
}

/** One request, as a promise; `onAbort` gets the means to end it early. */
function send(target: Http1Client, request: Http1Request, onAbort?: (abort: (error: Error) => void) => void): Promise<Http1Response> {
  return new Promise((resolve, reject) => target.request(request, { onStart: (abort) => onAbort?.(abort), onResponse: resolve, onError: reject }));
}

const echoed = (answer: Http1Response) => JSON.parse(answer.body) as { method: string; url: string; headers: Record<string, string>; body: string };

describe('the driver HTTP/1.1 client, against real servers', () => {
  it('sends method, path, headers and a UTF-8 body with its byte length, and reads every Set-Cookie', async () => {
    const { origin } = await echoServer();
    const answer = await send(client(origin), { method: 'POST', path: '/login?x=1', headers: { 'content-type': 'application/json', cookie: 'sid=s%3Aabc' }, body: '{"userNm":"김민지"}' });
    expect(answer.status).toBe(200);
    expect(answer.headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value)).toEqual(['a=1', 'b=2']);
    const got = echoed(answer);
    expect(got).toMatchObject({ method: 'POST', url: '/login?x=1', body: '{"userNm":"김민지"}' });
    expect(got.headers).toMatchObject({ host: origin.slice('http://'.length), cookie: 'sid=s%3Aabc', 'content-length': String(Buffer.byteLength('{"userNm":"김민지"}')), connection: 'keep-alive' });
    // The profile's Host wins; the client frames the body itself, whatever length it was told.
    const overridden = echoed(await send(client(origin), { method: 'POST', path: '/', headers: { host: 'shop.example', 'content-length': '999' }, body: 'abc' })).headers;
    expect(overridden).toMatchObject({ host: 'shop.example', 'content-length': '3' });
    // A POST without a body says so (as undici and browsers do), rather than leaving the server to guess.
    expect(echoed(await send(client(origin), { method: 'POST', path: '/logout' })).headers['content-length']).toBe('0');
    expect(echoed(await send(client(origin), { method: 'GET', path: '/session' })).headers['content-length']).toBeUndefined();
  });

  it('keeps connections alive: requests one after another take turns on two', async () => {
    // A connection rests one event-loop turn after its answer (see Http1Client.complete), so the
    // next request, sent at once, takes a second connection rather than wait; then they alternate.
    const { origin, seen } = await echoServer();
    const target = client(origin);
    for (let i = 0; i < 20; i++) expect((await send(target, { method: 'GET', path: `/r/${i}` })).status).toBe(200);
    expect(seen.connections).toBe(2);
  });

  it('sends an idempotent request once more when a reused connection closes before any answer; a POST fails as it is', async () => {
    // Each connection answers its first request, then drops the connection on the next.
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      let requests = 0;
      socket.on('data', () => (++requests === 1 ? socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') : socket.destroy()));
    });
    const target = client(await listen(server), 1);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
    expect((await send(target, { method: 'GET', path: '/' })).body).toBe('ok');
    await pause();
    expect((await send(target, { method: 'GET', path: '/' })).body).toBe('ok');
    expect(connections).toBe(2);
    await pause();
    await expect(send(target, { method: 'POST', path: '/counter' })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(connections).toBe(2);
  });

  it('gives a whole answer that runs to the end of the connection even when the server resets it after', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it', () => socket.resetAndDestroy());
      });
    });
    expect((await send(client(await listen(server)), { method: 'GET', path: '/' })).body).toBe('all of it');
  });

  it('does not reuse a connection the request asked to close', async () => {
    const { origin, seen } = await echoServer({ delayMs: 5 });
    const target = client(origin, 1);
    for (let i = 0; i < 3; i++) await send(target, { method: 'GET', path: '/', headers: { connection: 'close' } });
    expect(seen.connections).toBe(3);
  });

  it('never has more requests in flight than connections, and queues the rest in order', async () => {
    const { origin, seen } = await echoServer({ delayMs: 20 });
    const target = client(origin, 3);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => send(target, { method: 'GET', path: `/r/${i}` })));
    expect(answers.map((answer) => echoed(answer).url)).toEqual(Array.from({ length: 12 }, (_, i) => `/r/${i}`));
    expect(seen.mostInFlight).toBe(3);
    expect(seen.connections).toBe(3);
  });

  it("stops reusing an idle connection before the server's Keep-Alive timeout closes it", async () => {
    // timeout=1 leaves no safe window (undici's 2 s margin): every request gets a fresh connection.
    const short = await echoServer({ keepAliveTimeout: 1_000 });
    const target = client(short.origin);
    for (let i = 0; i < 3; i++) await send(target, { method: 'GET', path: '/' });
    expect(short.seen.connections).toBe(3);

    // timeout=4 allows 2 s of idleness: reused within it, not after.
    const longer = await echoServer({ keepAliveTimeout: 4_000 });
    const other = client(longer.origin);
    await send(other, { method: 'GET', path: '/' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await send(other, { method: 'GET', path: '/' });
    expect(longer.seen.connections).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await send(other, { method: 'GET', path: '/' });
    expect(longer.seen.connections).toBe(2);
  });

  it('reads a body that runs to the end of the connection, and opens a new connection after it', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.once('data', () => socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'));
    });
    const origin = await listen(server);
    const target = client(origin);
    expect((await send(target, { method: 'GET', path: '/' })).body).toBe('until the end');
    expect((await send(target, { method: 'GET', path: '/' })).body).toBe('until the end');
    expect(connections).toBe(2);
  });

  it('fails a request with ECONNREFUSED, ECONNRESET or EPROTO when there is no server, it hangs up, or it does not speak HTTP', async () => {
    const closed = net.createServer();
    const unused = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    cleanups.pop();
    await expect(send(client(unused), { method: 'GET', path: '/' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const hangUp = net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf')));
    await expect(send(client(await listen(hangUp)), { method: 'GET', path: '/' })).rejects.toMatchObject({ code: 'ECONNRESET' });

    const notHttp = net.createServer((socket) => socket.once('data', () => socket.write('SSH-2.0-OpenSSH_9.2\r\n\r\n')));
    await expect(send(client(await listen(notHttp)), { method: 'GET', path: '/' })).rejects.toMatchObject({ code: 'EPROTO' });
  });

  it('speaks TLS to an https origin and checks its certificate (a self-signed one is refused)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hactl-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore', timeout: 30_000 });
    let handshakes = 0;
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end('secret'));
    server.on('secureConnection', () => handshakes++);
    const origin = (await listen(server)).replace('http:', 'https:');
    await expect(send(client(origin), { method: 'GET', path: '/' })).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(handshakes).toBe(0);
  });

  it('ends a request when asked to, with the reason given, and the next request gets a fresh connection', async () => {
    const { origin, seen } = await echoServer({ delayMs: 500 });
    const target = client(origin);
    const reason = new Error('deadline');
    let abort: ((error: Error) => void) | undefined;
    const pending = send(target, { method: 'GET', path: '/slow' }, (cancel) => (abort = cancel));
    await new Promise((resolve) => setTimeout(resolve, 50));
    abort!(reason);
    await expect(pending).rejects.toBe(reason);
    expect((await send(target, { method: 'GET', path: '/next' })).status).toBe(200);
    expect(seen.connections).toBe(2);
  });

  it('on close, fails what is queued and closes every connection', async () => {
    const { origin, server } = await echoServer({ delayMs: 200 });
    const target = new Http1Client(origin, 1);
    const first = send(target, { method: 'GET', path: '/1' });
    const queued = send(target, { method: 'GET', path: '/2' });
    // Both end because hactl closed the client, and say so, rather than blame the server.
    const outcomes = [expect(queued).rejects.toMatchObject({ code: 'ECLIENTCLOSED' }), expect(first).rejects.toMatchObject({ code: 'ECLIENTCLOSED' })];
    await new Promise((resolve) => setTimeout(resolve, 50));
    await target.close();
    await Promise.all(outcomes);
    await expect.poll(() => new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count))), { timeout: 2_000 }).toBe(0);
    await expect(send(target, { method: 'GET', path: '/3' })).rejects.toMatchObject({ code: 'ECLIENTCLOSED' });
  });
});
