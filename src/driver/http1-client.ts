import net from 'node:net';
import tls from 'node:tls';
import { ResponseParser, type Http1Response } from './http1-response.js';

export interface Http1Request {
  method: string;
  path: string;
  /** Names in lower case; the client adds host and connection unless given, and frames the body (content-length). */
  headers?: Record<string, string> | null;
  body?: string | null;
}

/** Told what became of one request; `onStart` gets the means to end it early. */
export interface Http1Handler {
  onStart(abort: (error: Error) => void): void;
  onResponse(response: Http1Response): void;
  onError(error: Error): void;
}

/** The server closed the connection before a whole answer (Node's http client calls this a socket hang up). */
export class ConnectionClosed extends Error {
  readonly code = 'ECONNRESET';
}

/** The client was closed with the request still waiting for a connection. */
export class ClientClosed extends Error {
  readonly code = 'ECLIENTCLOSED';
}

// undici's defaults for reusing an idle connection: 4 s without a hint from the server, else the
// server's Keep-Alive timeout less 2 s (so that a request never meets a connection the server is
// closing at that moment), and never beyond 10 minutes.
const DEFAULT_IDLE_MS = 4_000;
const IDLE_MARGIN_MS = 2_000;
const MAX_IDLE_MS = 600_000;
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH']);

interface Job {
  head: string;
  body: string | null;
  method: string;
  handler: Http1Handler;
  connection: Connection | undefined;
  done: boolean;
}

interface Connection {
  socket: net.Socket;
  parser: ResponseParser;
  job: Job | undefined;
  /** When an idle connection may no longer be reused (performance.now() time). */
  reusableUntil: number;
  closed: Promise<void>;
}

/**
 * HTTP/1.1 to one origin, for the driver: keep-alive connections, at most `maxConnections`, one
 * request at a time on each (no pipelining, so that a request's latency is its own), requests
 * beyond that queued in order. Each request is written in one go (head and body corked together)
 * and its answer read by ResponseParser.
 *
 * It replaces undici's Pool in the driver because a request through it costs about 3 µs less of
 * the driver's CPU, which on a machine the driver shares with the cluster is rate and latency
 * (bench/README.md). It does only what the driver needs: no redirects, no retries, no
 * pipelining, no HTTP/2, no proxies. Deadlines are the caller's: it aborts through the function
 * `onStart` gets.
 */
export class Http1Client {
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly secure: boolean;
  private readonly idle: Connection[] = [];
  private readonly queue: Job[] = [];
  private readonly connections = new Set<Connection>();
  private closing = false;

  constructor(
    origin: string,
    private readonly maxConnections: number,
  ) {
    const url = new URL(origin);
    this.secure = url.protocol === 'https:';
    // URL keeps an IPv6 literal's brackets, which the Host header wants and connect() does not.
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port === '' ? (this.secure ? 443 : 80) : Number(url.port);
    this.hostHeader = url.host;
  }

  request(request: Http1Request, handler: Http1Handler): void {
    const body = request.body ?? null;
    let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
    let host = true;
    let connection = true;
    for (const name in request.headers) {
      // The client frames the body itself; a Host or Connection the profile gives wins over its own.
      if (name === 'content-length' || name === 'transfer-encoding') continue;
      if (name === 'host') host = false;
      else if (name === 'connection') connection = false;
      head += `${name}: ${request.headers[name]}\r\n`;
    }
    if (host) head += `host: ${this.hostHeader}\r\n`;
    if (connection) head += 'connection: keep-alive\r\n';
    if (body !== null || EXPECTS_BODY.has(request.method)) head += `content-length: ${body === null ? 0 : Buffer.byteLength(body)}\r\n`;
    head += '\r\n';
    const job: Job = { head, body, method: request.method, handler, connection: undefined, done: false };
    handler.onStart((error) => this.abort(job, error));
    if (job.done) return;
    if (this.closing) return this.fail(job, new ClientClosed('the driver was closed'));
    this.queue.push(job);
    this.dispatch();
  }

  /** Ends every connection; queued requests fail. */
  async close(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0)) this.fail(job, new ClientClosed('the driver was closed'));
    const closed = [...this.connections].map((connection) => {
      connection.socket.destroy();
      return connection.closed;
    });
    await Promise.all(closed);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const connection = this.takeIdle() ?? (this.connections.size < this.maxConnections ? this.connect() : undefined);
      if (!connection) return;
      this.start(connection, this.queue.shift()!);
    }
  }

  private takeIdle(): Connection | undefined {
    const now = performance.now();
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.reusableUntil > now && !connection.socket.destroyed) return connection;
      connection.socket.destroy();
    }
    return undefined;
  }

  private connect(): Connection {
    const socket = this.secure
      ? tls.connect({ host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host: this.host, port: this.port, noDelay: true });
    if (this.secure) socket.setNoDelay(true);
    let closed!: () => void;
    const connection: Connection = { socket, parser: new ResponseParser(), job: undefined, reusableUntil: 0, closed: new Promise((resolve) => (closed = resolve)) };
    this.connections.add(connection);
    socket.on('data', (chunk: Buffer) => this.onData(connection, chunk));
    socket.on('end', () => this.onEnd(connection));
    socket.on('error', (error) => this.onGone(connection, error));
    socket.on('close', () => {
      this.connections.delete(connection);
      if (connection.job) this.onGone(connection, new ConnectionClosed('the connection closed before a whole answer'));
      closed();
      // A queued request may take the place this connection held.
      if (!this.closing) this.dispatch();
    });
    return connection;
  }

  private start(connection: Connection, job: Job): void {
    connection.job = job;
    job.connection = connection;
    connection.parser.expectHead(job.method === 'HEAD');
    const { socket } = connection;
    if (job.body === null) socket.write(job.head, 'latin1');
    else {
      socket.cork();
      socket.write(job.head, 'latin1');
      socket.write(job.body, 'utf8');
      socket.uncork();
    }
  }

  private onData(connection: Connection, chunk: Buffer): void {
    const job = connection.job;
    // Bytes nobody asked for: the connection cannot be trusted with another request.
    if (!job) return void connection.socket.destroy();
    let response: Http1Response | undefined;
    try {
      response = connection.parser.push(chunk);
    } catch (error) {
      connection.job = undefined;
      connection.socket.destroy();
      return this.fail(job, error as Error);
    }
    if (response) this.complete(connection, job, response, false);
  }

  private onEnd(connection: Connection): void {
    const job = connection.job;
    if (!job) return void connection.socket.destroy();
    // A body that runs to the end of the connection is whole now; anything else was cut short.
    const response = connection.parser.end();
    if (response) this.complete(connection, job, response, true);
    else this.onGone(connection, new ConnectionClosed('the server closed the connection before a whole answer'));
  }

  /** The connection failed or closed: the request on it, if any, fails with `error`. */
  private onGone(connection: Connection, error: Error): void {
    const job = connection.job;
    connection.job = undefined;
    connection.socket.destroy();
    if (job) this.fail(job, error);
  }

  private complete(connection: Connection, job: Job, response: Http1Response, ended: boolean): void {
    connection.job = undefined;
    const reusable = !ended && !this.closing && response.keepAlive && connection.parser.leftover === 0;
    const idleMs = reusable ? reuseWindowMs(response) : 0;
    if (idleMs > 0) {
      connection.reusableUntil = performance.now() + idleMs;
      this.idle.push(connection);
    } else connection.socket.destroy();
    job.done = true;
    job.handler.onResponse(response);
    this.dispatch();
  }

  private abort(job: Job, error: Error): void {
    if (job.done) return;
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    const connection = job.connection;
    if (connection && connection.job === job) {
      connection.job = undefined;
      connection.socket.destroy();
    }
    this.fail(job, error);
  }

  private fail(job: Job, error: Error): void {
    if (job.done) return;
    job.done = true;
    job.handler.onError(error);
  }
}

/** How long a connection may sit idle and still be reused, after this answer. */
function reuseWindowMs(response: Http1Response): number {
  if (response.keepAliveTimeout === undefined) return DEFAULT_IDLE_MS;
  return Math.min(response.keepAliveTimeout * 1000 - IDLE_MARGIN_MS, MAX_IDLE_MS);
}
