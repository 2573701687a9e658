import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, errors as undiciErrors } from 'undici';
import { settleWithin } from '../time.js';
import { TargetAddresses } from './addresses.js';
import { initialHealth, recordCheck, type TargetHealth } from './health.js';
import { readCookie, route, stickySetCookie, type TargetView } from './routing.js';
import type { BalancerSettings, BalancerTarget } from './settings.js';

export const REPLICA_HEADER = 'x-hactl-replica';

export type BalancerEvent =
  | { type: 'listening'; port: number }
  | { type: 'health'; targetId: string; healthy: boolean; at: number }
  | { type: 'error'; message: string };

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

interface TargetRuntime extends TargetView {
  target: BalancerTarget;
  pool: Pool;
  checker: Pool;
  health: TargetHealth;
}

export interface RunningProxy {
  port: number;
  stop(): Promise<void>;
}

/** The HTTP server around the pure routing functions: forwards, tags, health-checks. */
export async function startProxy(settings: BalancerSettings, emit: (event: BalancerEvent) => void): Promise<RunningProxy> {
  const addresses = new TargetAddresses();
  await Promise.all(settings.targets.map((target) => addresses.refresh(target.host)));
  const connect = { lookup: addresses.lookup, timeout: settings.connectTimeoutMs };
  const targets: TargetRuntime[] = settings.targets.map((target) => {
    const origin = `http://${target.host}:${target.port}`;
    const health = initialHealth(settings.initialTargetHealth);
    return {
      id: target.id,
      healthy: health.healthy,
      target,
      pool: new Pool(origin, { connections: 64, headersTimeout: settings.upstreamTimeoutMs, keepAliveTimeout: 30_000, connect }),
      // Health checks use their own connection, as ALB's checkers do, so they never queue behind traffic.
      checker: new Pool(origin, { connections: 1, headersTimeout: settings.healthCheck.timeoutMs, connect }),
      health,
    };
  });
  const state = { targets, cursor: 0 };
  const { stickiness } = settings;

  const server = http.createServer((req, res) => {
    const stickyCookie = stickiness.type === 'lb_cookie' ? readCookie(req.headers.cookie, stickiness.cookieName) : undefined;
    const decision = route(state, { stickyCookie }, stickiness);
    if (!decision) {
      res.writeHead(503, { [REPLICA_HEADER]: 'none', 'content-type': 'text/plain' }).end('no targets\n');
      return;
    }
    state.cursor = decision.cursor;
    const target = targets[decision.targetIndex]!;
    const extraCookie =
      decision.stickyCookie !== undefined && stickiness.type === 'lb_cookie'
        ? stickySetCookie(stickiness.cookieName, decision.stickyCookie, stickiness.durationSeconds, Date.now())
        : undefined;
    forward(req, res, target, extraCookie);
  });
  // ALB's idle timeout is 60 s; keeping client connections longer than the driver's avoids resets.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const checks = targets.map((target) => runHealthChecks(target, settings, addresses, emit));
  emit({ type: 'listening', port });

  return {
    port,
    async stop() {
      for (const check of checks) check.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(targets.flatMap((target) => [target.pool.destroy(), target.checker.destroy()]));
    },
  };
}

function forward(req: http.IncomingMessage, res: http.ServerResponse, target: TargetRuntime, extraCookie: string | undefined): void {
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
        if (extraCookie !== undefined) out['set-cookie'] = appendHeader(out['set-cookie'], extraCookie);
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

function appendHeader(existing: string | string[] | undefined, value: string): string[] {
  if (existing === undefined) return [value];
  return Array.isArray(existing) ? [...existing, value] : [existing, value];
}

/**
 * Checks one target every interval; a check passes on a 2xx within the timeout. Whatever a check
 * waits on (a connection to a vanished address, a name that no longer resolves), its own timer
 * ends it, so the next check always comes.
 */
function runHealthChecks(target: TargetRuntime, settings: BalancerSettings, addresses: TargetAddresses, emit: (event: BalancerEvent) => void) {
  const { healthCheck } = settings;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const attempt = async () => {
    if (!(await addresses.refresh(target.target.host))) return false;
    return target.checker
      .request({ path: healthCheck.path, method: 'GET', signal: AbortSignal.timeout(healthCheck.timeoutMs) })
      .then(async (response) => {
        await response.body.dump();
        return response.statusCode >= 200 && response.statusCode < 300;
      })
      .catch(() => false);
  };
  const check = async () => {
    const passed = await settleWithin(attempt(), healthCheck.timeoutMs, false);
    if (stopped) return;
    const before = target.health.healthy;
    target.health = recordCheck(target.health, passed, healthCheck);
    target.healthy = target.health.healthy;
    if (target.healthy !== before) emit({ type: 'health', targetId: target.id, healthy: target.healthy, at: Date.now() });
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
