/** What the balancer needs to know; pure data, passed to its worker thread as is. */
export type Algorithm = 'round_robin';

export type Stickiness =
  | { type: 'off' }
  /** ALB's duration-based stickiness: the balancer's own cookie names the target. */
  | { type: 'lb_cookie'; cookieName: string; durationSeconds: number };

export interface HealthCheckSettings {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive passing checks that bring an unhealthy target back. */
  healthyThreshold: number;
  /** Consecutive failing checks that take a healthy target out of rotation. */
  unhealthyThreshold: number;
}

export interface BalancerTarget {
  id: string;
  host: string;
  port: number;
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
}

/** ALB's timeout for connecting to a target, and hactl's at test speed. */
export const ALB_CONNECT_TIMEOUT_MS = 10_000;
export const FAST_CONNECT_TIMEOUT_MS = 1_000;

/**
 * ALB's target-group defaults, for reference and for `--balancer-profile alb` later
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
};

/** The same state machine at test speed: a killed replica leaves rotation within ~0.5 s. */
export const FAST_HEALTH_CHECK: HealthCheckSettings = {
  path: '/health',
  intervalMs: 200,
  timeoutMs: 150,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};

/** ALB's stickiness cookie and its default duration of one day. */
export const ALB_COOKIE_NAME = 'AWSALB';
export const ALB_DEFAULT_STICKINESS_SECONDS = 86_400;
