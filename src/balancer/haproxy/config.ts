import { validateMatcher } from '../health.js';
import { encodeStickyCookie, validateStickiness } from '../routing.js';
import type { BalancerSettings } from '../settings.js';

/**
 * hactl's balancer settings (modelled on AWS ALB) as an haproxy.cfg for HAProxy 2.6+, so a real
 * HAProxy can stand in for hactl's balancer. What maps to what, and where they differ:
 *
 * - round_robin → `balance roundrobin`. least_outstanding_requests → `balance leastconn`, its
 *   nearest equivalent: in HTTP mode HAProxy counts one stream per request in progress, so
 *   "connections" are outstanding requests; ties rotate, as hactl's do.
 * - health check → `option httpchk GET <path>` (HTTP/1.0, no Host header), `http-check expect
 *   status <matcher>` (HAProxy takes ALB's "200", "200,302" and "200-299" syntax as is),
 *   `inter`/`fall`/`rise` from interval and thresholds, `timeout check`. HAProxy bounds a check's
 *   connect by min(connect timeout, interval) and then its read by `timeout check`, so a check
 *   may take up to their sum where ALB's timeout bounds the whole check. HAProxy starts a server
 *   up with one failed check to spare; index.ts forces full health (or, for ALB's `initial`
 *   state, down) through the runtime API before anyone is told the balancer's address.
 * - lb_cookie → `cookie <cookieName> insert indirect nocache maxidle <duration>`, each server's
 *   value the same opaque base64url of its id hactl's balancer writes. HAProxy's inserted cookie
 *   is a session cookie (no Expires), where AWSALB carries an Expires that slides by the
 *   duration on every response; instead HAProxy appends a last-seen date to the value (`|date`,
 *   in 4-second steps, re-sent only when that date moves) and with `maxidle` ignores a cookie
 *   idle for longer than the duration, so the pin ends within a few seconds of when ALB's would.
 *   No AWSALBCORS twin is set.
 * - app_cookie → a stick table keyed by the app's cookie: `stick store-response
 *   res.cook(<appCookieName>)` learns the pin when the app sets its cookie (ALB starts AWSALBAPP
 *   then too), `stick match req.cook(<appCookieName>)` follows it, and `expire <duration>` ends
 *   it after the duration without requests (a match refreshes it, as ALB refreshes AWSALBAPP).
 *   Chosen over `cookie <appCookieName> prefix` because prefix rewrites the app's own cookie as
 *   clients hold it (`server~value`), which hactl's cookie-swap and forged-id checks handle as the
 *   session id, and cannot end a pin after a duration. Unlike ALB no AWSALBAPP cookie is set: the pin lives in HAProxy's memory and
 *   goes with the client's app cookie alone (a copied app cookie carries the pin too).
 * - ALB's deregistration is `set server <backend>/<id> state maint` (see admin.ts and index.ts):
 *   HAProxy's `drain` state still sends cookie- and table-pinned clients to the server, which
 *   ALB never does to a deregistered target; `maint` sends nothing new and lets requests in
 *   flight finish.
 * - Every response, HAProxy's own 502/503/504 included, carries `x-hactl-replica`: the server
 *   that was chosen, or `none` when none was (hactl's balancer says `none` too).
 * - Known differences left: HAProxy answers 503 (not ALB's 502) when it cannot connect to a
 *   target; when no target is healthy it answers 503 where ALB fails open and tries them all;
 *   `timeout server` is an inactivity timeout on the whole response where hactl's bounds the
 *   wait for response headers. `retries 0`: hactl's balancer answers a refused connection at
 *   once, as ALB answers 502; HAProxy's default of 3 retries, up to a second apart, would turn a
 *   killed replica into seconds of latency instead of errors.
 */

/**
 * proxy.ts's REPLICA_HEADER, spelt out: importing proxy.ts would load undici and node:http into
 * whatever only wants a config file (config.test.ts checks that the two agree).
 */
export const REPLICA_HEADER = 'x-hactl-replica';

/** The frontend and backend names in the generated config; the runtime API addresses servers through the backend. */
export const HAPROXY_FRONTEND = 'hactl';
export const HAPROXY_BACKEND = 'targets';

/** ALB's idle timeout is 60 s; a client timeout above it keeps HAProxy from closing a connection the driver still holds. */
const CLIENT_TIMEOUT_MS = 65_000;
/** Room for some 30k connections, far above what hactl's drivers open. */
const FD_HARD_LIMIT = 65_536;
/** Entries of the app_cookie stick table: a slot per session; HAProxy allocates them as they are used. */
const STICK_TABLE_SIZE = '1m';
/** Longest app cookie value kept as a key; longer values are truncated, which still keys them apart in practice. */
const STICK_KEY_LENGTH = 256;

export interface AdminAddress {
  host: string;
  port: number;
}

/** The one-line problem with settings HAProxy could not express, or undefined. */
export function validateHaproxySettings(settings: BalancerSettings): string | undefined {
  const problem = validateStickiness(settings.stickiness) ?? validateMatcher(settings.healthCheck.matcher);
  if (problem) return problem;
  if (settings.targets.length === 0) return 'haproxy needs at least one target';
  for (const target of settings.targets) {
    // HAProxy names servers with these characters only; the name doubles as the runtime API's handle.
    if (!/^[A-Za-z0-9_.:-]+$/.test(target.id)) return `target id ${JSON.stringify(target.id)} cannot name an HAProxy server: use letters, digits, _ . : -`;
  }
  const ids = new Set(settings.targets.map((target) => target.id));
  if (ids.size !== settings.targets.length) return 'target ids must be unique to name HAProxy servers';
  if (!/^\/\S*$/.test(settings.healthCheck.path)) return `health check path ${JSON.stringify(settings.healthCheck.path)} must start with / and contain no spaces`;
  if (!Number.isInteger(settings.port) || settings.port < 1 || settings.port > 65535) return `haproxy needs a concrete port to bind, got ${settings.port}`;
  return undefined;
}

const RESOLVERS = 'hactl';

/**
 * haproxy.cfg for `settings`, with the runtime API on `admin`. Pure; throws on settings HAProxy
 * cannot express. `resolver`: a DNS server to keep re-resolving target names with (Docker's
 * 127.0.0.11 on a bridge network, where a restarted replica may come back on another address);
 * without it HAProxy resolves them once, at start-up.
 */
export function haproxyConfig(settings: BalancerSettings, admin: AdminAddress, options: { resolver?: string } = {}): string {
  const problem = validateHaproxySettings(settings);
  if (problem) throw new Error(problem);
  const { healthCheck, stickiness } = settings;
  const lines: string[] = [];
  const section = (header: string, body: (string | undefined)[]) => {
    lines.push(header, ...body.filter((line): line is string => line !== undefined).map((line) => `    ${line}`), '');
  };

  section('global', [
    // The runtime API: hactl reads server states and (de)registers servers through it.
    `stats socket ${socketAddress(admin)} level admin`,
    'stats timeout 10s',
    // HAProxy sizes maxconn from the open-file limit, which a container may set to a billion; an
    // explicit maxconn instead makes it exit where the limit is lower than that maxconn needs.
    `fd-hard-limit ${FD_HARD_LIMIT}`,
  ]);

  if (options.resolver) {
    section(`resolvers ${RESOLVERS}`, [`nameserver dns ${options.resolver}:53`, 'hold valid 1s', 'timeout resolve 1s', 'timeout retry 1s']);
  }

  section('defaults', [
    'mode http',
    `timeout connect ${ms(settings.connectTimeoutMs)}`,
    `timeout server ${ms(settings.upstreamTimeoutMs)}`,
    `timeout client ${ms(CLIENT_TIMEOUT_MS)}`,
    `timeout http-keep-alive ${ms(CLIENT_TIMEOUT_MS)}`,
    `timeout check ${ms(healthCheck.timeoutMs)}`,
    'retries 0',
    'option forwardfor',
  ]);

  section(`frontend ${HAPROXY_FRONTEND}`, [
    `bind ${bindAddress(settings.host, settings.port)}`,
    'http-request set-header x-forwarded-proto http',
    `default_backend ${HAPROXY_BACKEND}`,
  ]);

  const cookieLine =
    stickiness.type === 'lb_cookie' ? `cookie ${stickiness.cookieName} insert indirect nocache maxidle ${stickiness.durationSeconds}s` : undefined;
  const stickLines =
    stickiness.type === 'app_cookie'
      ? [
          `stick-table type string len ${STICK_KEY_LENGTH} size ${STICK_TABLE_SIZE} expire ${stickiness.durationSeconds}s`,
          `stick match req.cook(${stickiness.appCookieName})`,
          `stick store-response res.cook(${stickiness.appCookieName})`,
        ]
      : [];
  section(`backend ${HAPROXY_BACKEND}`, [
    `balance ${settings.algorithm === 'least_outstanding_requests' ? 'leastconn' : 'roundrobin'}`,
    `option httpchk GET ${healthCheck.path}`,
    `http-check expect status ${healthCheck.matcher.replace(/\s+/g, '')}`,
    `default-server inter ${ms(healthCheck.intervalMs)} fall ${healthCheck.unhealthyThreshold} rise ${healthCheck.healthyThreshold}`,
    cookieLine,
    ...stickLines,
    // http-after-response also reaches HAProxy's own error answers, which http-response does not.
    `http-after-response set-header ${REPLICA_HEADER} %[srv_name] if { srv_name -m found }`,
    `http-after-response set-header ${REPLICA_HEADER} none unless { srv_name -m found }`,
    ...settings.targets.map(
      (target) =>
        `server ${target.id} ${serverAddress(target.host, target.port)} check${cookieLine ? ` cookie ${encodeStickyCookie(target.id)}` : ''}` +
        (options.resolver ? ` resolvers ${RESOLVERS} init-addr last,libc,none` : ''),
    ),
  ]);
  return lines.join('\n');
}

function ms(value: number): string {
  return `${Math.max(1, Math.round(value))}ms`;
}

function isIpv6(host: string): boolean {
  return host.includes(':');
}

function socketAddress({ host, port }: AdminAddress): string {
  return `${isIpv6(host) ? 'ipv6' : 'ipv4'}@${host}:${port}`;
}

function bindAddress(host: string, port: number): string {
  return isIpv6(host) ? `ipv6@${host}:${port}` : `${host}:${port}`;
}

function serverAddress(host: string, port: number): string {
  return isIpv6(host) ? `ipv6@${host}:${port}` : `${host}:${port}`;
}
