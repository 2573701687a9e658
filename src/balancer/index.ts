import { Worker } from 'node:worker_threads';
import { EnvironmentError } from '../errors.js';
import { withTimeout } from '../time.js';
import { HealthTracker, type HealthChange } from './health-tracker.js';
import type { BalancerEvent } from './proxy.js';
import type { BalancerSettings } from './settings.js';

export { REPLICA_HEADER } from './proxy.js';
export type { HealthChange } from './health-tracker.js';

/** A running balancer, wherever it runs: its address, its targets' health, and how to stop it. */
export interface Balancer {
  url: string;
  isHealthy(targetId: string): boolean;
  waitForHealth(targetId: string, healthy: boolean, timeoutMs: number, signal?: AbortSignal): Promise<HealthChange>;
  /** Why the balancer stopped working, if it died after start-up. */
  failure(): string | undefined;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** hactl's balancer on a worker thread of the hactl process. */
export async function startBalancer(settings: BalancerSettings): Promise<Balancer> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: settings });
  const health = new HealthTracker(
    settings.targets.map((target) => target.id),
    Date.now(),
  );
  let stopping = false;
  worker.on('message', (event: BalancerEvent) => {
    if (event.type === 'health') health.apply({ targetId: event.targetId, healthy: event.healthy, at: event.at });
  });
  const fail = (reason: string) => !stopping && health.fail(reason);
  worker.on('error', (error) => fail(`balancer thread failed: ${error.message}`));
  worker.on('exit', (code) => fail(`balancer thread exited with code ${code}`));

  const where = `${settings.host}:${settings.port === 0 ? '(free port)' : settings.port}`;
  const started = new Promise<number>((resolve, reject) => {
    worker.on('message', (event: BalancerEvent) => {
      if (event.type === 'listening') resolve(event.port);
      if (event.type === 'error') reject(new EnvironmentError(`balancer could not listen on ${where}: ${event.message}`));
    });
    worker.once('exit', (code) => reject(new EnvironmentError(`balancer thread exited with code ${code} before listening`)));
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
    isHealthy: (targetId) => health.isHealthy(targetId),
    waitForHealth: (targetId, healthy, timeoutMs, signal) => health.waitForHealth(targetId, healthy, timeoutMs, signal),
    failure: () => health.failure(),
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
