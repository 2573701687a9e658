import { request } from 'undici';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { pollUntil } from '../platform/time.js';
import { CONTROL_MARGIN_MS } from './control.js';
import { HealthTracker } from './health-tracker.js';
import type { Balancer } from './index.js';
import { drainResultSchema, firstProblem, readHealthLine } from './messages.js';
import { ALB_DEREGISTRATION_DELAY_MS } from './settings.js';

const CONNECT_TIMEOUT_MS = 20_000;
const REGISTER_TIMEOUT_MS = 5_000;

export interface FollowOptions {
  url: string;
  /** The admin port's `/events`; its other endpoints (standalone.ts) live beside it. */
  eventsUrl: string;
  targetIds: readonly string[];
  /**
   * The balancer's deregistration delay, which bounds the wait for a drain; ALB's default of
   * 300 s when not given.
   */
  deregistrationDelayMs?: number;
  signal?: AbortSignal;
  /** Told each line of the event stream that is not a health change (it is otherwise ignored). */
  onBadLine?: (line: string) => void;
}

/**
 * Follows a balancer that runs elsewhere (a container) through its health event stream, and
 * deregisters and registers targets through its admin endpoints; the runtime that started it
 * also stops it.
 */
export async function followBalancer(options: FollowOptions): Promise<Balancer> {
  const health = new HealthTracker(options.targetIds, Date.now());
  const stream = new AbortController();
  const response = await pollUntil(
    () =>
      // The stream lives as long as the cluster: bound the wait for its headers, not its body.
      request(options.eventsUrl, { signal: stream.signal, headersTimeout: 1_000, bodyTimeout: 0 })
        .then(async (answer) => {
          if (answer.statusCode === 200) return answer;
          await answer.body.dump();
          return undefined;
        })
        .catch(() => undefined),
    {
      timeoutMs: CONNECT_TIMEOUT_MS,
      intervalMs: 50,
      signal: options.signal,
      onTimeout: () => new EnvironmentError(`the balancer container's event stream at ${options.eventsUrl} did not answer within ${CONNECT_TIMEOUT_MS} ms`),
    },
  );

  const adminBase = options.eventsUrl.replace(/\/events$/, '');
  let stopping = false;
  void (async () => {
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += chunk.toString();
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          const change = readHealthLine(line);
          // A line that is not a health change is passed over: one garbled line must not end
          // the stream, and with it the run. It is said once, with the line, to whoever listens.
          if (!change) {
            if (line.trim() !== '') options.onBadLine?.(line.slice(0, 200));
            continue;
          }
          // Changes are stamped on receipt, by hactl's clock: a remote engine's clock may differ,
          // and the stream adds far less than a health check interval.
          health.apply({ targetId: change.targetId, healthy: change.healthy, at: change.snapshot ? change.at : Date.now() });
        }
      }
      if (!stopping) health.fail('the balancer container stopped sending health events (it exited?)');
    } catch (error) {
      if (!stopping) health.fail(`lost the balancer container's event stream: ${errorMessage(error)}`);
    }
  })();

  return {
    url: options.url,
    isHealthy: (targetId) => health.isHealthy(targetId),
    waitForHealth: (targetId, healthy, timeoutMs, signal) => health.waitForHealth(targetId, healthy, timeoutMs, signal),
    healthChanges: (since) => health.history(since),
    failure: () => health.failure(),
    async deregister(targetId) {
      const limitMs = (options.deregistrationDelayMs ?? ALB_DEREGISTRATION_DELAY_MS) + CONTROL_MARGIN_MS;
      const body = await postAdmin(adminBase, targetId, 'deregister', limitMs);
      const result = drainResultSchema.safeParse(body);
      if (!result.success) throw new EnvironmentError(`balancer container answered deregister ${targetId} with no drain result (${firstProblem(result.error)}): ${JSON.stringify(body).slice(0, 200)}`);
      return result.data;
    },
    async register(targetId) {
      await postAdmin(adminBase, targetId, 'register', REGISTER_TIMEOUT_MS);
    },
    async stop() {
      stopping = true;
      stream.abort();
    },
  };
}

/** POST /targets/<id>/<action> on the balancer's admin port, answered with JSON; bounded by `limitMs`. */
async function postAdmin(adminBase: string, targetId: string, action: 'deregister' | 'register', limitMs: number): Promise<unknown> {
  const url = `${adminBase}/targets/${encodeURIComponent(targetId)}/${action}`;
  let answer: Awaited<ReturnType<typeof request>>;
  try {
    answer = await request(url, { method: 'POST', headersTimeout: limitMs, bodyTimeout: limitMs, signal: AbortSignal.timeout(limitMs) });
  } catch (error) {
    throw new EnvironmentError(`balancer container did not complete ${action} ${targetId} at ${url} (limit ${limitMs} ms): ${errorMessage(error)}`);
  }
  const body = (await answer.body.json().catch(() => ({}))) as { error?: string };
  if (answer.statusCode !== 200) throw new EnvironmentError(`balancer container refused ${action} ${targetId}: ${body.error ?? `HTTP ${answer.statusCode}`}`);
  return body;
}
