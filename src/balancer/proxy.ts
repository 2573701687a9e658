import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, errors as undiciErrors } from 'undici';
import { settleWithin } from '../platform/time.js';
import { TargetAddresses } from './addresses.js';
import { initialHealth, matchesStatus, recordCheck, validateMatcher, type TargetHealth } from './health.js';
import { readRouteRequest, route, stickinessCookies, validateStickiness, type TargetView } from './routing.js';
import { ALB_DEREGISTRATION_DELAY_MS, httpOrigin, type BalancerSettings, type BalancerTarget } from './settings.js';

export const REPLICA_HEADER = 'x-hactl-replica';

export type BalancerEvent =
  | { type: 'listening'; port: number }
  | { type: 'health'; targetId: string; healthy: boolean; at: number }
  | { type: 'error'; message: string };

export interface DrainResult {
  /** From deregistration until the last in-flight request finished (or the delay ran out). */
  drainedMs: number;
  /** Requests still in flight when the delay ran out; 0 when the target drained in time. */
  abandoned: number;
}

// RFC 9110 §7.6.1: connection-specific headers are not forwarded by a proxy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
  'host',
]);

interface Drain {
  promise: Promise<DrainResult>;
  finish(abandoned: number): void;
}

interface TargetRuntime extends TargetView {
  target: BalancerTarget;
  pool: Pool;
  checker: Pool;
  health: TargetHealth;
  /** Bumped on (de)registration, so that a health check begun before it does not count after it. */
  epoch: number;
  drain?: Drain;
}

export interface RunningProxy {
  port: number;
  /**
   * ALB deregistration: no new requests from now on, pinned clients included; resolves when the
   * target's in-flight requests are done, or when the deregistration delay ran out.
   */
  deregister(targetId: string): Promise<DrainResult>;
  /** ALB registration after a deregistration: the target starts `initial`, out of rotation until healthy. */
  register(targetId: string): Promise<void>;
  stop(): Promise<void>;
}

/** The HTTP server around the pure routing functions: forwards, tags, counts, drains, health-checks. */
export async function startProxy(input: BalancerSettings, emit: (event: BalancerEvent) => void): Promise<RunningProxy> {
  const settings = withAlbDefaults(input);
  const problem = validateStickiness(settings.stickiness) ?? validateMatcher(settings.healthCheck.matcher) ?? validateDelay(settings.deregistrationDelayMs);
  if (problem) throw new Error(problem);

  const addresses = new TargetAddresses();
  await Promise.all(settings.targets.map((target) => addresses.refresh(target.host)));
  const connect = { lookup: addresses.lookup, timeout: settings.connectTimeoutMs };
  const trafficPool = (target: BalancerTarget) =>
    new Pool(origin(target), { connections: 64, headersTimeout: settings.upstreamTimeoutMs, keepAliveTimeout: 30_000, connect });
  const targets: TargetRuntime[] = settings.targets.map((target) => {
    const health = initialHealth(settings.initialTargetHealth);
    return {
      id: target.id,
      healthy: health.healthy,
      outstanding: 0,
      draining: false,
      target,
      pool: trafficPool(target),
      // Health checks use their own connection, as ALB's checkers do, so they never queue behind traffic.
      checker: new Pool(origin(target), { connections: 1, headersTimeout: settings.healthCheck.timeoutMs, connect }),
      health,
      epoch: 0,
    };
  });
  const state = { targets, cursor: 0 };
  const { stickiness, algorithm } = settings;
  // Pools of drained targets, closing once their last (abandoned) request ends; destroyed on stop.
  const retired = new Set<Pool>();

  const server = http.createServer((req, res) => {
    const now = Date.now();
    // Without stickiness routing needs no cookie, and req.headers (built lazily by Node) is never built.
    const cookieHeader = stickiness.type === 'off' ? undefined : req.headers.cookie;
    const decision = route(state, readRouteRequest(cookieHeader, stickiness, now), stickiness, algorithm);
    if (!decision) {
      res.writeHead(503, { [REPLICA_HEADER]: 'none', 'content-type': 'text/plain' }).end('no targets in service\n');
      return;
    }
    state.cursor = decision.cursor;
    const target = targets[decision.targetIndex]!;
    const cookies = stickiness.type === 'off' ? undefined : (upstream: string[]) => stickinessCookies(stickiness, decision, upstream, now);
    forward(req, res, target, cookies, onSettled);
  });
  // ALB's idle timeout is 60 s; keeping client connections longer than the driver's avoids resets.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  function onSettled(target: TargetRuntime): void {
    if (target.drain && target.outstanding === 0) target.drain.finish(0);
  }

  /**
   * Once drained, the target's idle upstream connections go (a replica about to stop must not be
   * left holding keep-alive sockets the balancer would reuse after a restart); a fresh pool
   * connects again after registration. Abandoned requests keep the old pool until they end.
   */
  function retirePool(target: TargetRuntime): void {
    const old = target.pool;
    target.pool = trafficPool(target.target);
    retired.add(old);
    void old
      .close()
      .catch(() => undefined)
      .finally(() => retired.delete(old));
  }

  function find(targetId: string): TargetRuntime {
    const target = targets.find((candidate) => candidate.id === targetId);
    if (!target) throw new Error(`balancer has no target named ${targetId} (targets: ${targets.map((t) => t.id).join(', ')})`);
    return target;
  }

  function setHealthy(target: TargetRuntime, healthy: boolean): void {
    if (target.healthy === healthy) return;
    target.healthy = healthy;
    emit({ type: 'health', targetId: target.id, healthy, at: Date.now() });
  }

  /**
   * ALB: "The load balancer stops routing requests to a target as soon as it is deregistered";
   * "If a deregistering target has no in-flight requests and no active connections, Elastic Load
   * Balancing immediately completes the deregistration process"; otherwise it waits up to the
   * deregistration delay (target group attributes, deregistration_delay.timeout_seconds).
   */
  function deregister(targetId: string): Promise<DrainResult> {
    const target = find(targetId);
    if (target.drain) return target.drain.promise;
    // Already deregistered and drained (ALB's `unused`): nothing left to wait for.
    if (target.draining) return Promise.resolve({ drainedMs: 0, abandoned: 0 });
    target.draining = true;
    target.epoch++;
    // Out of rotation: followers waiting for it to come back must see it go first.
    setHealthy(target, false);
    const startedAt = performance.now();
    let resolve!: (result: DrainResult) => void;
    const promise = new Promise<DrainResult>((settle) => (resolve = settle));
    const timer = setTimeout(() => finish(target.outstanding), settings.deregistrationDelayMs);
    const finish = (abandoned: number) => {
      clearTimeout(timer);
      target.drain = undefined;
      retirePool(target);
      resolve({ drainedMs: performance.now() - startedAt, abandoned });
    };
    target.drain = { promise, finish };
    if (target.outstanding === 0) finish(0);
    return promise;
  }

  /**
   * ALB registration: the target is `initial` ("The load balancer is in the process of registering
   * the target or performing the initial health checks") and serves once healthyThreshold checks
   * pass. Registering a target that is still draining ends its drain; registering one in service
   * is a no-op, as RegisterTargets is.
   */
  async function register(targetId: string): Promise<void> {
    const target = find(targetId);
    if (!target.draining) return;
    target.drain?.finish(target.outstanding);
    target.draining = false;
    target.epoch++;
    target.health = initialHealth('initial');
    setHealthy(target, false);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const checks = targets.map((target) => runHealthChecks(target, settings, addresses, (healthy) => setHealthy(target, healthy)));
  emit({ type: 'listening', port });

  return {
    port,
    deregister: async (targetId) => deregister(targetId),
    register,
    async stop() {
      for (const check of checks) check.stop();
      for (const target of targets) target.drain?.finish(target.outstanding);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...targets.flatMap((target) => [target.pool.destroy(), target.checker.destroy()]), ...[...retired].map((pool) => pool.destroy())]);
    },
  };
}

/** Settings written before matcher and deregistration delay existed (a compose file's JSON) get ALB's defaults. */
function withAlbDefaults(settings: BalancerSettings): BalancerSettings {
  const partial = settings as Partial<BalancerSettings> & BalancerSettings;
  return {
    ...settings,
    healthCheck: { ...settings.healthCheck, matcher: partial.healthCheck.matcher ?? '200' },
    deregistrationDelayMs: partial.deregistrationDelayMs ?? ALB_DEREGISTRATION_DELAY_MS,
  };
}

function validateDelay(delayMs: number): string | undefined {
  return Number.isFinite(delayMs) && delayMs >= 0 ? undefined : `deregistration delay must be a number of milliseconds >= 0, got ${delayMs}`;
}

function origin(target: BalancerTarget): string {
  return httpOrigin(target.host, target.port);
}

type ExtraCookies = (upstreamSetCookie: string[]) => string[];

/**
 * Forwards one request to `target` and its answer back, counting it as outstanding on the target
 * until the response is finished or torn down. This is the balancer's hot path, so it uses
 * undici's dispatch handler directly rather than its stream API (no promise, factory or
 * end-of-stream watcher per request) and copies headers as flat [name, value, ...] lists, which
 * both undici and node:http take as they are, instead of building objects of them.
 */
function forward(req: http.IncomingMessage, res: http.ServerResponse, target: TargetRuntime, cookies: ExtraCookies | undefined, onSettled: (target: TargetRuntime) => void): void {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const exchange = new Exchange(req, res, target, cookies, hasBody);
  target.outstanding++;
  // 'close' comes once per response, after it finished or when it was torn down.
  res.once('close', () => {
    target.outstanding--;
    exchange.clientGone();
    onSettled(target);
  });
  target.pool.dispatch({ path: req.url ?? '/', method: req.method as 'GET', headers: requestHeaders(req), body: hasBody ? req : null }, exchange);
}

/** The client's headers less hop-by-hop ones, names in lower case (as Node's req.headers has them), and the X-Forwarded pair. */
function requestHeaders(req: http.IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(name) && !FORWARDED.has(name)) out.push(name, raw[i + 1]!);
  }
  // The balancer's own view replaces whatever the client claimed.
  out.push('x-forwarded-for', req.socket.remoteAddress ?? '', 'x-forwarded-proto', 'http');
  return out;
}

/** Set by the balancer on every forwarded request. */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto']);

/** undici's (legacy, unwrapped) dispatch handler for one forwarded request. */
class Exchange {
  private abort: ((error: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  /** Body bytes still to come when the target said how many (content-length), else -1. */
  private remaining = -1;
  /** res.end() has been called with the body's last bytes. */
  private ended = false;
  /** The target's answer is complete, or failed. */
  private settled = false;
  /** The client's response closed before that. */
  private gone = false;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly target: TargetRuntime,
    private readonly cookies: ExtraCookies | undefined,
    private readonly hasBody: boolean,
  ) {}

  onConnect(abort: (error: Error) => void): void {
    this.abort = abort;
    // The client left while the request waited for a connection: do not send it.
    if (this.gone) abort(new undiciErrors.RequestAbortedError());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx answers are interim: the final one follows.
    if (statusCode < 200) return true;
    this.resume = resume;
    const out: string[] = [];
    const setCookies: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1').toLowerCase();
      if (HOP_BY_HOP.has(name) || name === REPLICA_HEADER) continue;
      // latin1 both ways passes header bytes through unchanged.
      const value = rawHeaders[i + 1]!.toString('latin1');
      out.push(name, value);
      if (name === 'set-cookie') setCookies.push(value);
      else if (name === 'content-length' && this.req.method !== 'HEAD') this.remaining = Number(value);
    }
    out.push(REPLICA_HEADER, this.target.id);
    // app_cookie decides only now: AWSALBAPP follows the app's own Set-Cookie.
    const extra = this.cookies?.(setCookies);
    if (extra !== undefined) for (const cookie of extra) out.push('set-cookie', cookie);
    this.res.writeHead(statusCode, out);
    return true;
  }

  onData(chunk: Buffer): boolean {
    // The body's last bytes (most answers come in one chunk): headers and body leave in one
    // write, without a separate end().
    if (chunk.length === this.remaining) {
      this.ended = true;
      this.res.end(chunk);
      return true;
    }
    if (this.remaining > 0) this.remaining -= chunk.length;
    if (this.res.write(chunk)) return true;
    // Paused: reading from the target resumes once the client has taken what was written.
    this.res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    this.settled = true;
    if (!this.ended) this.res.end();
  }

  onError(error: Error): void {
    this.settled = true;
    // The client already has the whole answer.
    if (this.ended) return;
    const { res, req } = this;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    // ALB answers 502 when a target refuses or drops the connection, 504 when it does not
    // connect or answer in time.
    const status = error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.ConnectTimeoutError ? 504 : 502;
    const body = `${status === 504 ? 'upstream timeout' : 'bad gateway'}: ${this.target.id}\n`;
    res.writeHead(status, { [REPLICA_HEADER]: this.target.id, 'content-type': 'text/plain', connection: 'close' }).end(body);
    if (this.hasBody && !req.complete) req.destroy();
  }

  /** The response closed: if the target has not answered in full, stop waiting for it. */
  clientGone(): void {
    this.gone = true;
    if (!this.settled) this.abort?.(new undiciErrors.RequestAbortedError());
  }
}

/**
 * Checks one target every interval; a check passes on a status the matcher accepts within the
 * timeout. Whatever a check waits on (a connection to a vanished address, a name that no longer
 * resolves), its own timer ends it, so the next check always comes. A deregistered target is not
 * checked: ALB monitors "the health of all targets registered with the target group", and a
 * draining one reports Target.DeregistrationInProgress instead of a health result.
 */
function runHealthChecks(target: TargetRuntime, settings: BalancerSettings, addresses: TargetAddresses, setHealthy: (healthy: boolean) => void) {
  const { healthCheck } = settings;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const attempt = async () => {
    if (!(await addresses.refresh(target.target.host))) return false;
    return target.checker
      .request({ path: healthCheck.path, method: 'GET', signal: AbortSignal.timeout(healthCheck.timeoutMs) })
      .then(async (response) => {
        await response.body.dump();
        return matchesStatus(response.statusCode, healthCheck.matcher);
      })
      .catch(() => false);
  };
  const check = async () => {
    if (!target.draining) {
      const epoch = target.epoch;
      const passed = await settleWithin(attempt(), healthCheck.timeoutMs, false);
      if (stopped) return;
      if (epoch === target.epoch) {
        target.health = recordCheck(target.health, passed, healthCheck);
        setHealthy(target.health.healthy);
      }
    }
    timer = setTimeout(check, healthCheck.intervalMs);
  };
  timer = setTimeout(check, healthCheck.intervalMs);

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
