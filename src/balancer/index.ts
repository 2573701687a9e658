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
  /** Resolves once `targetId` is `healthy`, with the moment it became so; rejects after `timeoutMs`. */
  waitForHealth(targetId: string, healthy: boolean, timeoutMs: number, signal?: AbortSignal): Promise<HealthChange>;
  /** Why the balancer stopped working, if its thread died after start-up. */
  failure(): string | undefined;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export async function startBalancer(settings: BalancerSettings): Promise<Balancer> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: settings });
  const startedAt = Date.now();
  const state = new Map(settings.targets.map((target) => [target.id, { targetId: target.id, healthy: true, at: startedAt }]));
  const changes = new EventEmitter();
  let failure: string | undefined;
  let stopping = false;
  worker.on('message', (event: BalancerEvent) => {
    if (event.type !== 'health') return;
    const change = { targetId: event.targetId, healthy: event.healthy, at: event.at };
    state.set(event.targetId, change);
    changes.emit('change', change);
  });
  const fail = (reason: string) => {
    if (stopping || failure) return;
    failure = reason;
    changes.emit('failed', reason);
  };
  worker.on('error', (error) => fail(`balancer thread failed: ${error.message}`));
  worker.on('exit', (code) => fail(`balancer thread exited with code ${code}`));

  const where = `${settings.host}:${settings.port === 0 ? '(free port)' : settings.port}`;
  const started = new Promise<number>((resolve, reject) => {
    worker.on('message', (event: BalancerEvent) => {
      if (event.type === 'listening') resolve(event.port);
      if (event.type === 'error') reject(new EnvironmentError(`balancer could not listen on ${where}: ${event.message}`));
    });
    changes.once('failed', (reason: string) => reject(new EnvironmentError(reason)));
  });
  let port: number;
  try {
    port = await withTimeout(started, START_TIMEOUT_MS, () => new EnvironmentError(`balancer did not start listening on ${where} within ${START_TIMEOUT_MS} ms`));
  } catch (error) {
    stopping = true;
    await worker.terminate();
    throw error;
  }

  return {
    url: `http://${settings.host}:${port}`,
    port,
    isHealthy: (targetId) => state.get(targetId)?.healthy ?? false,
    failure: () => failure,
    waitForHealth(targetId, healthy, timeoutMs, signal) {
      const current = state.get(targetId);
      if (current?.healthy === healthy) return Promise.resolve(current);
      return new Promise<HealthChange>((resolve, reject) => {
        const cleanup = () => {
          clearTimeout(timer);
          changes.off('change', onChange);
          changes.off('failed', onFailed);
          signal?.removeEventListener('abort', onAbort);
        };
        const onChange = (change: HealthChange) => {
          if (change.targetId !== targetId || change.healthy !== healthy) return;
          cleanup();
          resolve(change);
        };
        const onFailed = (reason: string) => {
          cleanup();
          reject(new EnvironmentError(reason));
        };
        const onAbort = () => {
          cleanup();
          reject(signal!.reason);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new EnvironmentError(`balancer did not mark ${targetId} ${healthy ? 'healthy' : 'unhealthy'} within ${timeoutMs} ms`));
        }, timeoutMs);
        if (failure) return onFailed(failure);
        changes.on('change', onChange);
        changes.on('failed', onFailed);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async stop() {
      stopping = true;
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
