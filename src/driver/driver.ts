import { performance } from 'node:perf_hooks';
import type { CookieJar } from 'tough-cookie';
import { Pool } from 'undici';
import { REPLICA_HEADER } from '../balancer/index.js';
import type { HttpRequest } from './app-profile.js';
import type { Outcome, Sample } from './records.js';

/** The most requests one phase step may send at once (a user's burst of parallel increments and reads). */
export const MAX_BURST = 64;

export interface Exchange {
  /** 0 when no answer came. */
  status: number;
  body: string;
  replica: string | null;
  setCookies: string[];
  error?: string;
}

export interface SampleMeta {
  phase: string;
  kind: string;
  user: number;
}

export interface DriverOptions {
  scenario: string;
  concurrency: number;
  requestTimeoutMs: number;
  signal: AbortSignal;
  /** Told of every request once it has its sample (live progress). */
  onSample?(sample: Sample): void;
}

/** The cookies a browser would send; the same options object every time. */
const LIVE_COOKIES = {};
/** Cookies past their expiry too (a stale tab, a replayed cookie). */
const EXPIRED_COOKIES = { expire: false };

/**
 * Sends requests to the balancer through undici, keeps each jar's cookies as a browser would,
 * and turns every request into a sample.
 *
 * The driver must not be what limits a run's rate or shapes its latencies, so each request takes
 * the shortest path through undici (a dispatch handler that gathers the answer, no response
 * stream or promise chain) and one timer for its deadline, where an AbortSignal.any() of the
 * run's signal and an AbortSignal.timeout() cost several objects, listeners and a weak reference
 * per request. The run's signal is listened to once, by the driver, which aborts what is in flight.
 */
export class Driver {
  readonly samples: Sample[] = [];
  private readonly pool: Pool;
  private readonly startedAt = performance.now();
  /** Parsed once per path: tough-cookie takes a URL object as is, where a string is parsed again on every call. */
  private readonly urls = new Map<string, URL>();
  private readonly inFlight = new Set<Pending>();
  private readonly onAbort = () => {
    for (const pending of this.inFlight) pending.abort(this.options.signal.reason);
  };

  constructor(
    readonly origin: string,
    private readonly options: DriverOptions,
  ) {
    // Phases keep at most `concurrency` requests in flight; a burst of parallel increments sends
    // more at once, on connections of their own, so that the burst is not serialised here.
    this.pool = new Pool(origin, { connections: Math.max(options.concurrency, MAX_BURST), pipelining: 1 });
    options.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Milliseconds since the scenario started. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  /** Converts an epoch time (as the balancer reports events) to scenario time. */
  fromEpoch(epochMs: number): number {
    return epochMs - (performance.timeOrigin + this.startedAt);
  }

  /**
   * `expiredCookies` sends cookies the jar holds past their expiry, as a stale tab or an attacker
   * replaying a cookie would: the only way to see whether the server itself enforces a timeout.
   */
  async send(jar: CookieJar, request: HttpRequest, meta: SampleMeta, classify: (exchange: Exchange) => Outcome, options: { expiredCookies?: boolean } = {}): Promise<Exchange> {
    const url = this.url(request.path);
    const cookie = jar.getCookieStringSync(url, options.expiredCookies ? EXPIRED_COOKIES : LIVE_COOKIES);
    const headers: Record<string, string> = { ...request.headers };
    if (cookie) headers.cookie = cookie;

    const at = this.now();
    const exchange = await this.exchange(request, headers);
    const end = this.now();
    for (const setCookie of exchange.setCookies) jar.setCookieSync(setCookie, url, { ignoreError: true });

    const sample: Sample = {
      scenario: this.options.scenario,
      ...meta,
      replica: exchange.replica,
      status: exchange.status,
      latencyMs: end - at,
      outcome: classify(exchange),
      at,
      end,
      ...(exchange.error !== undefined ? { error: exchange.error } : {}),
    };
    this.samples.push(sample);
    this.options.onSample?.(sample);
    return exchange;
  }

  private url(path: string): URL {
    let url = this.urls.get(path);
    if (url === undefined) {
      url = new URL(this.origin + path);
      this.urls.set(path, url);
    }
    return url;
  }

  private exchange(request: HttpRequest, headers: Record<string, string>): Promise<Exchange> {
    const { signal } = this.options;
    // The run is being torn down: stop here rather than record a bogus error sample.
    signal.throwIfAborted();
    return new Promise<Exchange>((resolve, reject) => {
      const pending = new Pending(
        (exchange) => {
          clearTimeout(timer);
          this.inFlight.delete(pending);
          resolve(exchange);
        },
        (error) => {
          clearTimeout(timer);
          this.inFlight.delete(pending);
          if (signal.aborted) reject(signal.reason);
          else resolve({ status: 0, body: '', replica: null, setCookies: [], error: reasonOf(error) });
        },
      );
      const timer = setTimeout(() => pending.abort(new RequestTimeout()), this.options.requestTimeoutMs);
      this.inFlight.add(pending);
      this.pool.dispatch({ path: request.path, method: request.method, headers, body: request.body ?? null }, pending);
    });
  }

  async close(): Promise<void> {
    this.options.signal.removeEventListener('abort', this.onAbort);
    await this.pool.destroy();
  }
}

/** The request took longer than requestTimeoutMs from being sent to its last byte. */
class RequestTimeout extends Error {
  override readonly name = 'TimeoutError';
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const name = (error as { name?: string }).name;
  return name === 'TimeoutError' ? 'timeout' : typeof code === 'string' ? code : String(error);
}

/**
 * undici's (legacy, unwrapped) dispatch handler for one request: gathers status, the two headers
 * hactl reads and the body, decoded as undici's body.text() decodes it (UTF-8, a BOM skipped).
 */
class Pending {
  private cancel: ((error: Error) => void) | undefined;
  private cancelled: Error | undefined;
  private done = false;
  private status = 0;
  private replica: string | null = null;
  private readonly setCookies: string[] = [];
  private readonly chunks: Buffer[] = [];

  constructor(
    private readonly succeed: (exchange: Exchange) => void,
    private readonly fail: (error: unknown) => void,
  ) {}

  /** Ends the request now (its deadline passed, or the run is being torn down). */
  abort(error: Error): void {
    if (this.done) return;
    if (this.cancel) this.cancel(error);
    else this.cancelled = error;
  }

  onConnect(abort: (error: Error) => void): void {
    this.cancel = abort;
    if (this.cancelled) abort(this.cancelled);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx answers are interim: the final one follows.
    if (statusCode < 200) return true;
    this.status = statusCode;
    let replicas = 0;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      // Only two names matter; compare lengths before decoding any.
      if (name.length === REPLICA_HEADER.length && name.toString('latin1').toLowerCase() === REPLICA_HEADER) {
        replicas++;
        this.replica = rawHeaders[i + 1]!.toString('latin1');
      } else if (name.length === SET_COOKIE.length && name.toString('latin1').toLowerCase() === SET_COOKIE) {
        this.setCookies.push(rawHeaders[i + 1]!.toString('latin1'));
      }
    }
    // A repeated x-hactl-replica names no single replica.
    if (replicas > 1) this.replica = null;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.done = true;
    this.succeed({ status: this.status, body: decodeBody(this.chunks), replica: this.replica, setCookies: this.setCookies });
  }

  onError(error: Error): void {
    this.done = true;
    this.fail(error);
  }
}

const SET_COOKIE = 'set-cookie';

function decodeBody(chunks: Buffer[]): string {
  if (chunks.length === 0) return '';
  const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const start = buffer.length > 2 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
  return buffer.toString('utf8', start);
}

/** Error per DESIGN.md: no answer, or a 5xx. */
export function isError(exchange: Exchange): boolean {
  return exchange.status === 0 || exchange.status >= 500;
}

/** For requests that are not reads: ok on 2xx/3xx, rejected on 4xx, error otherwise. */
export function classifyAction(exchange: Exchange): Outcome {
  if (isError(exchange)) return 'error';
  return exchange.status >= 400 ? 'rejected' : 'ok';
}
