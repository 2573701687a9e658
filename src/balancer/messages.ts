import { z } from 'zod';
import type { ControlReply } from './control.js';
import type { HealthChange } from './health-tracker.js';
import type { BalancerEvent, DrainResult } from './proxy.js';
import { ALGORITHMS, type BalancerSettings } from './settings.js';

/*
 * What crosses into hactl from a balancer it does not share memory with (a worker thread, a
 * container, a process reading its settings from the environment), checked on arrival: a cast
 * would let a malformed message become a plausible figure (a drain of `undefined` ms) or a crash
 * far from its cause. Each reader decides what a bad one costs: one bad event or line is
 * ignored and counted, a bad reply fails its own command, bad settings stop the balancer's start.
 */

const epochMs = z.number().finite().nonnegative();
const milliseconds = z.number().finite().nonnegative();
const port = z.number().int().min(0).max(65_535);

const healthEvent = z.object({ type: z.literal('health'), targetId: z.string(), healthy: z.boolean(), at: epochMs });

export const balancerEventSchema: z.ZodType<BalancerEvent> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('listening'), port }),
  healthEvent,
  z.object({ type: z.literal('error'), message: z.string() }),
]);

export const drainResultSchema: z.ZodType<DrainResult> = z.object({ drainedMs: milliseconds, abandoned: z.number().int().nonnegative() });

export const controlReplySchema: z.ZodType<ControlReply> = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('reply'), requestId: z.number().int(), ok: z.literal(true), result: drainResultSchema.optional() }),
  z.object({ type: z.literal('reply'), requestId: z.number().int(), ok: z.literal(false), error: z.string() }),
]);

/** The `stopped` acknowledgement of a stop command. */
export const stoppedSchema = z.object({ type: z.literal('stopped') });

/** One line of a balancer container's `/events` stream (admin.ts); `snapshot` marks the state sent first. */
export const healthLineSchema: z.ZodType<HealthChange & { snapshot?: boolean }> = z.object({
  targetId: z.string(),
  healthy: z.boolean(),
  at: epochMs,
  snapshot: z.boolean().optional(),
});

const stickinessSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('off') }),
  z.object({ type: z.literal('lb_cookie'), cookieName: z.string().min(1), durationSeconds: z.number().finite() }),
  z.object({ type: z.literal('app_cookie'), appCookieName: z.string().min(1), cookieName: z.string().min(1), durationSeconds: z.number().finite() }),
]);

/**
 * The balancer's settings as a process of its own reads them (HACTL_BALANCER_CONFIG). A matcher
 * and a deregistration delay may be missing, as in compose files written before they existed:
 * the proxy gives them ALB's defaults. Unknown keys pass through untouched.
 */
export const balancerSettingsSchema = z.looseObject({
  host: z.string().min(1),
  port,
  targets: z.array(z.looseObject({ id: z.string().min(1), host: z.string().min(1), port })),
  algorithm: z.enum(ALGORITHMS),
  stickiness: stickinessSchema,
  healthCheck: z.looseObject({
    path: z.string(),
    intervalMs: milliseconds,
    timeoutMs: milliseconds,
    healthyThreshold: z.number().int().positive(),
    unhealthyThreshold: z.number().int().positive(),
    matcher: z.string().optional(),
  }),
  upstreamTimeoutMs: milliseconds,
  connectTimeoutMs: milliseconds,
  initialTargetHealth: z.enum(['healthy', 'initial']).optional(),
  deregistrationDelayMs: milliseconds.optional(),
});

/** The first problem with `value` as one line: where it is and what was expected. */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'the value';
  return `${where}: ${issue.message}`;
}

/**
 * Settings from HACTL_BALANCER_CONFIG's JSON, or an Error naming the first thing wrong with them
 * and what was expected.
 */
export function parseBalancerSettings(json: string | undefined): BalancerSettings {
  if (json === undefined || json.trim() === '') throw new Error('HACTL_BALANCER_CONFIG is not set; expected the balancer settings as JSON');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`HACTL_BALANCER_CONFIG is not JSON (${error instanceof Error ? error.message : String(error)}); expected the balancer settings as JSON`);
  }
  const parsed = balancerSettingsSchema.safeParse(value);
  if (!parsed.success) throw new Error(`HACTL_BALANCER_CONFIG is not valid balancer settings: ${firstProblem(parsed.error)}`);
  // Defaults for the two optional fields are the proxy's to give (withAlbDefaults).
  return parsed.data as BalancerSettings;
}

/** The JSON text of one line, parsed and checked; undefined for a line that is not a health change. */
export function readHealthLine(line: string): (HealthChange & { snapshot?: boolean }) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = healthLineSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** A message from the balancer's worker thread, checked: what it is, or why it is none of them. */
export type WorkerMessage =
  | { kind: 'event'; event: BalancerEvent }
  | { kind: 'reply'; reply: ControlReply }
  | { kind: 'stopped' }
  | { kind: 'bad'; problem: string; requestId?: number };

export function readWorkerMessage(message: unknown): WorkerMessage {
  const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
  if (type === 'stopped') return { kind: 'stopped' };
  if (type === 'reply') {
    const reply = controlReplySchema.safeParse(message);
    if (reply.success) return { kind: 'reply', reply: reply.data };
    // A reply that names its command fails that command, rather than leave it to time out.
    const requestId = (message as { requestId?: unknown }).requestId;
    return { kind: 'bad', problem: `a malformed reply (${firstProblem(reply.error)})`, ...(typeof requestId === 'number' ? { requestId } : {}) };
  }
  const event = balancerEventSchema.safeParse(message);
  if (event.success) return { kind: 'event', event: event.data };
  return { kind: 'bad', problem: `a malformed event (${firstProblem(event.error)})` };
}
