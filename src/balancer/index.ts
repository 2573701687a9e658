import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { EnvironmentError } from '../errors.js';
import { withTimeout } from '../time.js';
import type { BalancerEvent } from './proxy.js';
import type { BalancerSettings } from './settings.js';

export { REPLICA_HEADER } from './proxy.js';

export interface HealthChange {
  targetId: string;
  healthy: boolean;
  /** Epoch milliseconds. */
  at: number;
}

export interface Balancer {
  url: string;
  port: number;
  isHealthy(targetId: string): boolean;
  /** Resolves with the change once `targetId` reaches `healthy`; rejects after `timeoutMs`. */
  waitForHealth(targetId: string, healthy: boolean, timeoutMs: number, signal?: AbortSignal): Promise<HealthChange>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export async function startBalancer(settings: BalancerSettings): Promise<Balancer> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: settings });
  const health = new Map(settings.targets.map((target) => [target.id, true]));
  const changes = new EventEmitter();
  worker.on('message', (event: BalancerEvent) => {
    if (event.type !== 'health') return;
    health.set(event.targetId, event.healthy);
    changes.emit('change', { targetId: event.targetId, healthy: event.healthy, at: event.at } satisfies HealthChange);
  });

  const where = `${settings.host}:${settings.port === 0 ? '(free port)' : settings.port}`;
  const started = new Promise<number>((resolve, reject) => {
    worker.on('message', (event: BalancerEvent) => {
      if (event.type === 'listening') resolve(event.port);
      if (event.type === 'error') reject(new EnvironmentError(`balancer could not listen on ${where}: ${event.message}`));
    });
    worker.once('error', (error) => reject(new EnvironmentError(`balancer thread failed: ${error.message}`)));
    worker.once('exit', (code) => reject(new EnvironmentError(`balancer thread exited with code ${code} before listening`)));
  });
  let port: number;
  try {
    port = await withTimeout(started, START_TIMEOUT_MS, () => new EnvironmentError(`balancer did not start listening on ${where} within ${START_TIMEOUT_MS} ms`));
  } catch (error) {
    await worker.terminate();
    throw error;
  }

  return {
    url: `http://${settings.host}:${port}`,
    port,
    isHealthy: (targetId) => health.get(targetId) ?? false,
    waitForHealth(targetId, healthy, timeoutMs, signal) {
      if (health.get(targetId) === healthy) return Promise.resolve({ targetId, healthy, at: Date.now() });
      return new Promise<HealthChange>((resolve, reject) => {
        const cleanup = () => {
          clearTimeout(timer);
          changes.off('change', onChange);
          signal?.removeEventListener('abort', onAbort);
        };
        const onChange = (change: HealthChange) => {
          if (change.targetId !== targetId || change.healthy !== healthy) return;
          cleanup();
          resolve(change);
        };
        const onAbort = () => {
          cleanup();
          reject(signal!.reason);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new EnvironmentError(`balancer did not mark ${targetId} ${healthy ? 'healthy' : 'unhealthy'} within ${timeoutMs} ms`));
        }, timeoutMs);
        changes.on('change', onChange);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (event: { type: string }) => event.type === 'stopped' && resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage({ type: 'stop' });
      await withTimeout(stopped, STOP_TIMEOUT_MS, () => new Error('balancer stop timed out')).catch(() => undefined);
      await worker.terminate();
    },
  };
}
