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
/** RFC 9110 section 9.2.2: methods a client may send again when it cannot know whether the first try arrived. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

interface Job {
  head: string;
  body: string | null;
  method: string;
  /** The request itself asked for `Connection: close`: its connection is not reused, whatever the answer says. */
  closeAfter: boolean;
  handler: Http1Handler;
  connection: Connection | undefined;
  done: boolean;
  /** Sent again once already, after a reused connection closed under it. */
  retried: boolean;
}

interface Connection {
  socket: net.Socket;
  parser: ResponseParser;
  job: Job | undefined;
  /** Answers it has carried: a connection that has carried one is a reused connection for the next. */
  answered: number;
  /** Whether any byte of the current request's answer has arrived. */
  heard: boolean;
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
    let closeAfter = false;
    for (const name in request.headers) {
      // The client frames the body itself; a Host or Connection the profile gives wins over its own.
      if (name === 'content-length' || name === 'transfer-encoding') continue;
      const value = request.headers[name]!;
      if (name === 'host') host = false;
      else if (name === 'connection') {
        connection = false;
        closeAfter = /(?:^|,)\s*close\s*(?:,|$)/i.test(value);
      }
      head += `${name}: ${value}\r\n`;
    }
    if (host) head += `host: ${this.hostHeader}\r\n`;
    if (connection) head += 'connection: keep-alive\r\n';
    if (body !== null || EXPECTS_BODY.has(request.method)) head += `content-length: ${body === null ? 0 : Buffer.byteLength(body)}\r\n`;
    head += '\r\n';
    const job: Job = { head, body, method: request.method, closeAfter, handler, connection: undefined, done: false, retried: false };
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
      // What was on the wire ends because hactl closed it, not because the server failed it.
      const job = connection.job;
      connection.job = undefined;
      connection.socket.destroy();
      if (job) this.fail(job, new ClientClosed('the driver was closed'));
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
    const connection: Connection = { socket, parser: new ResponseParser(), job: undefined, answered: 0, heard: false, reusableUntil: 0, closed: new Promise((resolve) => (closed = resolve)) };
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
    connection.heard = false;
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
    connection.heard = true;
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

  /**
   * The connection failed or closed: the request on it, if any, fails with `error`, unless its
   * answer ran to the end of the connection and is whole (a server that resets rather than closes).
   */
  private onGone(connection: Connection, error: Error): void {
    const job = connection.job;
    if (!job) return void connection.socket.destroy();
    const response = connection.parser.end();
    if (response) return this.complete(connection, job, response, true);
    connection.job = undefined;
    connection.socket.destroy();
    if (this.mayRetry(connection, job, error)) {
      job.retried = true;
      job.connection = undefined;
      this.queue.unshift(job);
      return this.dispatch();
    }
    this.fail(job, error);
  }

  /**
   * A kept-alive connection the server closed as the request went out (an idle timeout it did
   * not announce, a close right after an answer) says nothing about the app, so an idempotent
   * request that heard nothing back goes out once more, on another connection, as browsers do.
   * A new connection that fails, a request that got any of an answer, and a POST fail as they are.
   */
  private mayRetry(connection: Connection, job: Job, error: Error): boolean {
    const closed = error instanceof ConnectionClosed || ['ECONNRESET', 'EPIPE'].includes((error as NodeJS.ErrnoException).code ?? '');
    return closed && connection.answered > 0 && !connection.heard && !job.retried && !this.closing && IDEMPOTENT.has(job.method);
  }

  private complete(connection: Connection, job: Job, response: Http1Response, ended: boolean): void {
    connection.job = undefined;
    connection.answered++;
    const reusable = !ended && !this.closing && !job.closeAfter && response.keepAlive && connection.parser.leftover === 0;
    const idleMs = reusable ? reuseWindowMs(response) : 0;
    if (idleMs > 0) {
      connection.reusableUntil = performance.now() + idleMs;
      // As undici does, the connection rests one turn of the event loop before it is reused: a
      // server that closes it right after the answer (whatever its Keep-Alive said) is seen
      // closing it first, rather than taking the next request down with it.
      setImmediate(this.rested, connection);
    } else connection.socket.destroy();
    job.done = true;
    job.handler.onResponse(response);
    this.dispatch();
  }

  private readonly rested = (connection: Connection): void => {
    if (connection.socket.destroyed || connection.job || this.closing) return;
    this.idle.push(connection);
    this.dispatch();
  };

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
