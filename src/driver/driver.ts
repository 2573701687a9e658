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

/**
 * Sends requests to the balancer through undici, keeps each jar's cookies as a browser would,
 * and turns every request into a sample.
 */
export class Driver {
  readonly samples: Sample[] = [];
  private readonly pool: Pool;
  private readonly startedAt = performance.now();

  constructor(
    readonly origin: string,
    private readonly options: DriverOptions,
  ) {
    // Phases keep at most `concurrency` requests in flight; a burst of parallel increments sends
    // more at once, on connections of their own, so that the burst is not serialised here.
    this.pool = new Pool(origin, { connections: Math.max(options.concurrency, MAX_BURST), pipelining: 1 });
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
    const url = this.origin + request.path;
    const cookie = jar.getCookieStringSync(url, options.expiredCookies ? { expire: false } : {});
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

  private async exchange(request: HttpRequest, headers: Record<string, string>): Promise<Exchange> {
    const { signal } = this.options;
    try {
      const response = await this.pool.request({
        path: request.path,
        method: request.method,
        headers,
        body: request.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.requestTimeoutMs)]),
      });
      const body = await response.body.text();
      const replica = response.headers[REPLICA_HEADER];
      const setCookie = response.headers['set-cookie'];
      return {
        status: response.statusCode,
        body,
        replica: typeof replica === 'string' ? replica : null,
        setCookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
      };
    } catch (error) {
      // The run is being torn down: stop here rather than record a bogus error sample.
      signal.throwIfAborted();
      // AbortSignal.timeout() rejects with a DOMException whose legacy numeric code means nothing here.
      const code = (error as { code?: unknown }).code;
      const name = (error as { name?: string }).name;
      const reason = name === 'TimeoutError' ? 'timeout' : typeof code === 'string' ? code : String(error);
      return { status: 0, body: '', replica: null, setCookies: [], error: reason };
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
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
