import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../platform/errors.js';
import type { TcpProxy } from './tcp-proxy.js';
import { parseToxic } from './toxics.js';

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

/** A toxic is a few dozen bytes; anything much larger is not one. */
const BODY_LIMIT_BYTES = 16 * 1024;
/** Nothing here waits on anything slow: a client that takes longer is gone or stuck. */
const REQUEST_TIMEOUT_MS = 10_000;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The fault proxy's control API, over HTTP so that hactl can reach it in a child process or a
 * container alike:
 *   PUT /toxic     a JSON toxic; 400 with a one-line reason when it is not a valid one
 *   DELETE /toxic  removes the toxic
 *   GET /toxic     the current toxic, or null
 *   PUT /upstream  {"host": ..., "port": ...}: new connections go there, open ones are closed
 *   GET /upstream  where connections go
 *   GET /health    200 with the proxy's counters once it listens
 */
export async function serveAdmin(proxy: Pick<TcpProxy, 'setToxic' | 'toxic' | 'stats' | 'setUpstream' | 'upstream'>, options: { host: string; port: number }): Promise<AdminServer> {
  const routes: Record<string, Record<string, (req: http.IncomingMessage) => Promise<{ status: number; body?: unknown }>>> = {
    '/health': { GET: async () => ({ status: 200, body: { status: 'ok', ...proxy.stats() } }) },
    '/toxic': {
      GET: async () => ({ status: 200, body: proxy.toxic() ?? null }),
      PUT: async (req) => {
        const parsed = parseToxic(parseJson(await readBody(req)));
        if (!parsed.ok) throw new HttpProblem(400, parsed.reason);
        await proxy.setToxic(parsed.toxic);
        return { status: 200, body: parsed.toxic };
      },
      DELETE: async () => {
        await proxy.setToxic(undefined);
        return { status: 204 };
      },
    },
    '/upstream': {
      GET: async () => ({ status: 200, body: proxy.upstream() }),
      PUT: async (req) => {
        const upstream = parseEndpoint(parseJson(await readBody(req)));
        await proxy.setUpstream(upstream);
        return { status: 200, body: upstream };
      },
    },
  };

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const resource = routes[path];
    const handler = resource?.[req.method ?? ''];
    const answer = !resource
      ? Promise.reject(new HttpProblem(404, `no ${path} here; the resources are ${Object.keys(routes).join(', ')}`))
      : !handler
        ? Promise.reject(new HttpProblem(405, `${req.method} ${path} is not supported; use ${Object.keys(resource).join(', ')}`))
        : handler(req);
    answer.then(
      ({ status, body }) => {
        if (body === undefined) return void res.writeHead(status).end();
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      },
      (error: unknown) => {
        const status = error instanceof HttpProblem ? error.status : 500;
        // One line, as every hactl error: the client puts it in its own message.
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`${errorMessage(error).replace(/\s*\n\s*/g, ' ')}\n`);
      },
    );
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseEndpoint(value: unknown): { host: string; port: number } {
  const { host, port } = (value ?? {}) as { host?: unknown; port?: unknown };
  if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new HttpProblem(400, 'expected {"host": "<address>", "port": <1..65535>}');
  }
  return { host, port };
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) throw new HttpProblem(413, `a toxic is at most ${BODY_LIMIT_BYTES} bytes of JSON`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpProblem(400, `the body is not JSON (${errorMessage(error)}); send a toxic such as {"type":"latency","latencyMs":200}`);
  }
}
