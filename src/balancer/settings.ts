/** What the balancer needs to know; pure data, passed to its worker thread as is. */
export const ALGORITHMS = ['round_robin', 'least_outstanding_requests'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export type Stickiness =
  | { type: 'off' }
  /**
   * ALB's duration-based stickiness: the balancer's own cookie (AWSALB) names the target, and a
   * twin (AWSALBCORS, SameSite=None; Secure) carries the same value for cross-origin requests.
   */
  | { type: 'lb_cookie'; cookieName: string; durationSeconds: number }
  /**
   * ALB's application-based stickiness: once the app sets `appCookieName`, the balancer adds its
   * own cookie (AWSALBAPP) naming the target; requests carrying it go there while it is healthy.
   */
  | { type: 'app_cookie'; appCookieName: string; cookieName: string; durationSeconds: number };

/** `--balancer-profile`: ALB's own defaults, or the same state machine at test speed. */
export const BALANCER_PROFILES = ['fast', 'alb'] as const;
export type BalancerProfile = (typeof BALANCER_PROFILES)[number];

export interface HealthCheckSettings {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive passing checks that bring an unhealthy target back. */
  healthyThreshold: number;
  /** Consecutive failing checks that take a healthy target out of rotation. */
  unhealthyThreshold: number;
  /** ALB's success codes: `200`, `200,302`, `200-299`. ALB's default for HTTP is `200`. */
  matcher: string;
}

export interface BalancerTarget {
  id: string;
  host: string;
  port: number;
}

/** `http://host:port`, an IPv6 literal in brackets as URLs want it. */
export function httpOrigin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export interface BalancerSettings {
  host: string;
  /** 0 picks a free port. */
  port: number;
  targets: BalancerTarget[];
  algorithm: Algorithm;
  stickiness: Stickiness;
  healthCheck: HealthCheckSettings;
  /** How long the balancer waits for a target's response headers before answering 504. */
  upstreamTimeoutMs: number;
  /**
   * How long it waits to connect to a target before answering 504. A dead process refuses at
   * once; a vanished host (a crashed instance, a killed container's address) never answers, and
   * only this ends the wait. ALB's is 10 s.
   */
  connectTimeoutMs: number;
  /**
   * How targets start. `healthy`: hactl registers them once they answer, so they serve at once.
   * `initial`: ALB's initial state, for a balancer that may start before its targets (compose):
   * no traffic until `healthyThreshold` checks pass, unless no target is healthy yet.
   */
  initialTargetHealth?: 'healthy' | 'initial';
  /**
   * ALB's deregistration delay: how long a target being removed may finish its in-flight
   * requests (it gets no new ones) before the balancer gives up on them. ALB's default is 300 s.
   */
  deregistrationDelayMs: number;
}

/** ALB's timeout for connecting to a target, and hactl's at test speed. */
export const ALB_CONNECT_TIMEOUT_MS = 10_000;
export const FAST_CONNECT_TIMEOUT_MS = 1_000;

/**
 * ALB's target-group defaults, `--balancer-profile alb`
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html):
 * interval 30 s, timeout 5 s, healthy threshold 5, unhealthy threshold 2. At those settings a
 * dead replica keeps receiving requests for up to a minute, which is faithful but slow to test.
 */
export const ALB_HEALTH_CHECK: HealthCheckSettings = {
  path: '/health',
  intervalMs: 30_000,
  timeoutMs: 5_000,
  healthyThreshold: 5,
  unhealthyThreshold: 2,
  matcher: '200',
};

/** The same state machine at test speed: a killed replica leaves rotation within ~0.5 s. */
export const FAST_HEALTH_CHECK: HealthCheckSettings = {
  path: '/health',
  intervalMs: 200,
  timeoutMs: 150,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: '200',
};

/** Which way a target's health changes: out of rotation, or back into it. */
export type HealthDirection = 'unhealthy' | 'healthy';

/**
 * When a target that died (or came back) changes state, counted from that moment: the threshold's
 * worth of checks in a row, the first of which may come at once (earliest) or only after a full
 * interval, each taking up to its timeout (latest: a vanished host answers nothing, and only the
 * timeout ends the check). At ALB's defaults a dead replica leaves rotation 30 to 70 s after it dies.
 */
export function detectionWindowMs(healthCheck: HealthCheckSettings, direction: HealthDirection): { earliestMs: number; latestMs: number } {
  const threshold = direction === 'unhealthy' ? healthCheck.unhealthyThreshold : healthCheck.healthyThreshold;
  return { earliestMs: (threshold - 1) * healthCheck.intervalMs, latestMs: threshold * (healthCheck.intervalMs + healthCheck.timeoutMs) };
}

/**
 * Beyond the window, for the news to reach hactl (a worker thread's event, HAProxy's `show stat`
 * polled every 100 ms, a balancer in a container followed over HTTP) and for timers running late
 * on a loaded machine.
 */
const DETECTION_SLACK_MS = 10_000;

/**
 * How long anything may wait for the balancer to take a target out of rotation, or put it back:
 * the window's latest, one more interval for where the change falls in the check cycle (HAProxy
 * spreads its servers' first checks over an interval, and a check under way when the replica died
 * may still pass), and slack. The one bound every runtime and
 * phase waits by, and that a scenario's own `timeoutMs` is held to at load: the fast profile's is
 * 10.9 s, ALB's 110 s to notice a dead replica and 215 s to trust a restarted one.
 */
export function detectionBoundMs(healthCheck: HealthCheckSettings, direction: HealthDirection): number {
  return detectionWindowMs(healthCheck, direction).latestMs + healthCheck.intervalMs + DETECTION_SLACK_MS;
}

export const ALB_DEREGISTRATION_DELAY_MS = 300_000;
export const FAST_DEREGISTRATION_DELAY_MS = 5_000;

/** ALB's stickiness cookie and its default duration of one day. */
export const ALB_COOKIE_NAME = 'AWSALB';
export const ALB_CORS_COOKIE_NAME = 'AWSALBCORS';
export const ALB_APP_COOKIE_NAME = 'AWSALBAPP';
/** ALB accepts stickiness durations from 1 second to 7 days. */
export const MIN_STICKINESS_SECONDS = 1;
export const MAX_STICKINESS_SECONDS = 604_800;
export const ALB_DEFAULT_STICKINESS_SECONDS = 86_400;
