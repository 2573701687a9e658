import { request } from 'undici';
import { EnvironmentError, errorMessage } from '../errors.js';
import { pollUntil } from '../time.js';
import { HealthTracker, type HealthChange } from './health-tracker.js';
import type { Balancer } from './index.js';

const CONNECT_TIMEOUT_MS = 20_000;

/**
 * Follows a balancer that runs elsewhere (a container) through its health event stream; the
 * runtime that started it also stops it.
 */
export async function followBalancer(options: { url: string; eventsUrl: string; targetIds: readonly string[]; signal?: AbortSignal }): Promise<Balancer> {
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

  let stopping = false;
  void (async () => {
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += chunk.toString();
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const change = JSON.parse(buffered.slice(0, newline)) as HealthChange & { snapshot?: boolean };
          // Changes are stamped on receipt, by hactl's clock: a remote engine's clock may differ,
          // and the stream adds far less than a health check interval.
          health.apply({ targetId: change.targetId, healthy: change.healthy, at: change.snapshot ? change.at : Date.now() });
          buffered = buffered.slice(newline + 1);
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
    failure: () => health.failure(),
    async stop() {
      stopping = true;
      stream.abort();
    },
  };
}
