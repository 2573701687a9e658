import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, errors as undiciErrors } from 'undici';
import { settleWithin } from '../time.js';
import { TargetAddresses } from './addresses.js';
import { initialHealth, matchesStatus, recordCheck, validateMatcher, type TargetHealth } from './health.js';
import { readRouteRequest, route, stickinessCookies, validateStickiness, type TargetView } from './routing.js';
import { ALB_DEREGISTRATION_DELAY_MS, type BalancerSettings, type BalancerTarget } from './settings.js';

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
    const decision = route(state, readRouteRequest(req.headers.cookie, stickiness, now), stickiness, algorithm);
    if (!decision) {
      res.writeHead(503, { [REPLICA_HEADER]: 'none', 'content-type': 'text/plain' }).end('no targets in service\n');
      return;
    }
    state.cursor = decision.cursor;
    const target = targets[decision.targetIndex]!;
    const cookies = stickiness.type === 'off' ? undefined : (upstream: string | string[] | undefined) => stickinessCookies(stickiness, decision, upstream, now);
    track(target, res, onSettled);
    forward(req, res, target, cookies);
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
  return `http://${target.host}:${target.port}`;
}

/** Counts a request as outstanding on its target until its response is finished or has failed. */
function track(target: TargetRuntime, res: http.ServerResponse, onSettled: (target: TargetRuntime) => void): void {
  target.outstanding++;
  // 'close' comes once per response, after it finished or when it was torn down.
  res.once('close', () => {
    target.outstanding--;
    onSettled(target);
  });
}

type ExtraCookies = (upstreamSetCookie: string | string[] | undefined) => string[];

function forward(req: http.IncomingMessage, res: http.ServerResponse, target: TargetRuntime, cookies: ExtraCookies | undefined): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  headers['x-forwarded-proto'] = 'http';
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';

  target.pool
    .stream(
      { path: req.url ?? '/', method: req.method as 'GET', headers, body: hasBody ? req : null },
      ({ statusCode, headers: upstreamHeaders }) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(upstreamHeaders)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value as string | string[];
        }
        out[REPLICA_HEADER] = target.id;
        // app_cookie decides only now: AWSALBAPP follows the app's own Set-Cookie.
        const extra = cookies?.(out['set-cookie']);
        if (extra !== undefined && extra.length > 0) out['set-cookie'] = appendHeaders(out['set-cookie'], extra);
        res.writeHead(statusCode, out);
        return res;
      },
    )
    .catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // ALB answers 502 when a target refuses or drops the connection, 504 when it does not
      // connect or answer in time.
      const status = error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.ConnectTimeoutError ? 504 : 502;
      const body = `${status === 504 ? 'upstream timeout' : 'bad gateway'}: ${target.id}\n`;
      res.writeHead(status, { [REPLICA_HEADER]: target.id, 'content-type': 'text/plain', connection: 'close' }).end(body);
      if (hasBody && !req.complete) req.destroy();
    });
}

function appendHeaders(existing: string | string[] | undefined, values: string[]): string[] {
  if (existing === undefined) return values;
  return Array.isArray(existing) ? [...existing, ...values] : [existing, ...values];
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
