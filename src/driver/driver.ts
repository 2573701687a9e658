import { performance } from 'node:perf_hooks';
import type { CookieJar } from 'tough-cookie';
import type { HttpRequest } from './app-profile.js';
import { requestFor } from './captures.js';
import { cookieHeader, storeSetCookies } from './cookie-memo.js';
import { Http1Client, type Http1Handler } from './http1-client.js';
import type { Http1Response } from './http1-response.js';
import type { RateLimiter } from '../platform/rate-limit.js';
import type { Outcome, Sample } from './records.js';
import { BALANCER_TAG, type ReplicaIdentity } from './replica-identity.js';

/** The most requests one phase step may send at once (a user's burst of parallel increments and reads). */
export const MAX_BURST = 64;

export interface Exchange {
  /** 0 when no answer came. */
  status: number;
  body: string;
  replica: string | null;
  setCookies: string[];
  /** Every header of the answer, as received (a login step's captures and redirects read them); none when no answer came. */
  headers: readonly (readonly [string, string])[];
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
  /** How answers name the replica that gave them (the app profile's `replica:`); absent: hactl's balancer's tag. */
  replica?: ReplicaIdentity;
  /** Told of every request once it has its sample (live progress). */
  onSample?(sample: Sample): void;
  /** --rate: the run's one limiter, shared by all its drivers; absent, requests go at once. */
  limiter?: RateLimiter;
  /** Every jar an answer set a cookie in is added here, so that its session can be logged out at the end. */
  jars?: Set<CookieJar>;
}

/** Cookies past their expiry too (a stale tab, a replayed cookie). */
const EXPIRED_COOKIES = { expire: false };

/**
 * Sends requests to the balancer over HTTP/1.1 keep-alive connections, keeps each jar's cookies
 * as a browser would, and turns every request into a sample.
 *
 * The driver must not be what limits a run's rate or shapes its latencies, so each request takes
 * the shortest path: hactl's own HTTP/1.1 client (src/driver/http1-client.ts), a handler that
 * gathers the answer with no response stream or promise chain, and one timer for its deadline,
 * where an AbortSignal.any() of the run's signal and an AbortSignal.timeout() cost several
 * objects, listeners and a weak reference per request. The run's signal is listened to once, by
 * the driver, which aborts what is in flight.
 */
export class Driver {
  readonly samples: Sample[] = [];
  private readonly client: Http1Client;
  private readonly startedAt = performance.now();
  /** Parsed once per path: tough-cookie takes a URL object as is, where a string is parsed again on every call. */
  private readonly urls = new Map<string, URL>();
  private readonly inFlight = new Set<Pending>();
  private readonly identity: ReplicaIdentity;
  private readonly onAbort = () => {
    for (const pending of this.inFlight) pending.abort(this.options.signal.reason);
  };

  constructor(
    readonly origin: string,
    private readonly options: DriverOptions,
  ) {
    // Phases keep at most `concurrency` requests in flight; a burst of parallel increments sends
    // more at once, on connections of their own, so that the burst is not serialised here.
    this.client = new Http1Client(origin, Math.max(options.concurrency, MAX_BURST));
    this.identity = options.replica ?? BALANCER_TAG;
    options.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /**
   * A driver of its own to the same origin, sending as this one does, whose samples are no
   * sample of the row: a control user, probes after a fault.
   */
  fork(scenario: string): Driver {
    const { onSample: _unused, ...options } = this.options;
    return new Driver(this.origin, { ...options, scenario, concurrency: 1 });
  }

  /** Milliseconds since the scenario started. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  /** When the oldest request still in flight was sent (scenario time), if any is: an answer from before then may still come. */
  oldestInFlightAt(): number | undefined {
    // A Set iterates in insertion order, which is the order requests were sent.
    return this.inFlight.values().next().value?.sentAt;
  }

  /** Converts an epoch time (as the balancer reports events) to scenario time. */
  fromEpoch(epochMs: number): number {
    return epochMs - (performance.timeOrigin + this.startedAt);
  }

  /**
   * `expiredCookies` sends cookies the jar holds past their expiry, as a stale tab or an attacker
   * replaying a cookie would: the only way to see whether the server itself enforces a timeout.
   */
  async send(jar: CookieJar, template: HttpRequest, meta: SampleMeta, classify: (exchange: Exchange) => Outcome, options: { expiredCookies?: boolean } = {}): Promise<Exchange> {
    const request = requestFor(jar, template);
    const url = this.url(request.path);
    const cookie = options.expiredCookies ? jar.getCookieStringSync(url, EXPIRED_COOKIES) : cookieHeader(jar, url);
    const headers = cookie ? { ...request.headers, cookie } : request.headers;

    let at: number;
    let exchange: Exchange;
    const { limiter } = this.options;
    if (limiter === undefined) {
      at = this.now();
      exchange = await this.exchange(request, headers, at);
    } else {
      // Latency and the request timeout start when the limiter lets the request go, not when it queued.
      const started = await limiter.schedule(() => {
        const sentAt = this.now();
        return { at: sentAt, answer: this.exchange(request, headers, sentAt) };
      }, this.options.signal);
      at = started.at;
      exchange = await started.answer;
    }
    const end = this.now();
    storeSetCookies(jar, url, exchange.setCookies);
    if (this.options.jars !== undefined && exchange.setCookies.length > 0) this.options.jars.add(jar);

    // Built field by field, not spread: one of these per request, and every run keeps them all.
    const sample: Sample = {
      scenario: this.options.scenario,
      phase: meta.phase,
      kind: meta.kind,
      user: meta.user,
      replica: exchange.replica,
      status: exchange.status,
      latencyMs: end - at,
      outcome: classify(exchange),
      at,
      end,
    };
    if (exchange.error !== undefined) sample.error = exchange.error;
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

  private exchange(request: HttpRequest, headers: Record<string, string> | undefined, sentAt: number): Promise<Exchange> {
    const { signal } = this.options;
    // The run is being torn down: stop here rather than record a bogus error sample.
    signal.throwIfAborted();
    const pending = new Pending(this.inFlight, signal, this.identity, sentAt);
    pending.timer = setTimeout(expire, this.options.requestTimeoutMs, pending);
    this.inFlight.add(pending);
    this.client.request({ path: request.path, method: request.method, headers, body: request.body ?? null }, pending);
    return pending.answer;
  }

  async close(): Promise<void> {
    this.options.signal.removeEventListener('abort', this.onAbort);
    await this.client.close();
  }
}

/** The request took longer than requestTimeoutMs from being asked for (waiting for a free connection included, waiting for --rate's limiter not) to its last byte. */
class RequestTimeout extends Error {
  override readonly name = 'TimeoutError';
}

function expire(pending: Pending): void {
  pending.abort(new RequestTimeout());
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const name = (error as { name?: string }).name;
  return name === 'TimeoutError' ? 'timeout' : typeof code === 'string' ? code : String(error);
}

/**
 * What the driver makes of one request's answer: status, the replica that gave it (one pass over
 * the headers collects the identity's header and the Set-Cookies together), and the body (UTF-8,
 * a BOM skipped, as fetch().text() decodes it); it settles `answer`. It holds its own timer and
 * its place in the driver's in-flight set, so that a request costs no closures beyond its
 * promise's.
 */
class Pending implements Http1Handler {
  readonly answer: Promise<Exchange>;
  timer: NodeJS.Timeout | undefined;
  private resolve!: (exchange: Exchange) => void;
  private reject!: (reason: unknown) => void;
  private cancel: ((error: Error) => void) | undefined;

  constructor(
    private readonly inFlight: Set<Pending>,
    private readonly signal: AbortSignal,
    private readonly identity: ReplicaIdentity,
    /** Milliseconds since the scenario started, when it was sent. */
    readonly sentAt: number,
  ) {
    this.answer = new Promise<Exchange>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Ends the request now (its deadline passed, or the run is being torn down). */
  abort(error: Error): void {
    this.cancel?.(error);
  }

  onStart(abort: (error: Error) => void): void {
    this.cancel = abort;
  }

  onResponse(response: Http1Response): void {
    this.settle();
    const wanted = this.identity.header;
    let value: string | null = null;
    let count = 0;
    const setCookies: string[] = [];
    for (const [name, field] of response.headers) {
      if (name === wanted) {
        count++;
        value = field;
      } else if (name === SET_COOKIE) setCookies.push(field);
    }
    const replica = this.identity.name(response.status, value, count, response.body, setCookies);
    this.resolve({ status: response.status, body: response.body, replica, setCookies, headers: response.headers });
  }

  onError(error: Error): void {
    this.settle();
    // The run is being torn down: no sample for what it cut short.
    if (this.signal.aborted) this.reject(this.signal.reason);
    else this.resolve({ status: 0, body: '', replica: null, setCookies: [], headers: [], error: reasonOf(error) });
  }

  private settle(): void {
    clearTimeout(this.timer);
    this.inFlight.delete(this);
  }
}

const SET_COOKIE = 'set-cookie';

/** Error per DESIGN.md: no answer, or a 5xx. */
export function isError(exchange: Exchange): boolean {
  return exchange.status === 0 || exchange.status >= 500;
}

/** For requests that are not reads: ok on 2xx/3xx, rejected on 4xx, error otherwise. */
export function classifyAction(exchange: Exchange): Outcome {
  if (isError(exchange)) return 'error';
  return exchange.status >= 400 ? 'rejected' : 'ok';
}
