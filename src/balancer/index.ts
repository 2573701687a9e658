import type { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { EnvironmentError } from '../platform/errors.js';
import { withTimeout } from '../platform/time.js';
import { CONTROL_MARGIN_MS, type ControlCommand, type ControlReply } from './control.js';
import { HealthTracker, type HealthChange } from './health-tracker.js';
import { readWorkerMessage } from './messages.js';
import type { DrainResult } from './proxy.js';
import { httpOrigin, type BalancerSettings, type BalancerTarget } from './settings.js';

export { REPLICA_HEADER } from './proxy.js';
export type { DrainResult } from './proxy.js';
export type { HealthChange } from './health-tracker.js';

/** A running balancer, wherever it runs: its address, its targets' health, and how to stop it. */
export interface Balancer {
  url: string;
  isHealthy(targetId: string): boolean;
  waitForHealth(targetId: string, healthy: boolean, timeoutMs: number, signal?: AbortSignal): Promise<HealthChange>;
  /** Its targets' health changes since `since` (epoch milliseconds), oldest first. */
  healthChanges(since?: number): HealthChange[];
  /** Why the balancer stopped working, if it died after start-up. */
  failure(): string | undefined;
  /**
   * ALB deregistration: the target gets no new requests at once; resolves when its in-flight
   * requests have finished, or when the deregistration delay ran out with some still running.
   */
  deregister(targetId: string): Promise<DrainResult>;
  /**
   * ALB registration of a target that was deregistered: it starts in the `initial` state and gets
   * traffic once `healthyThreshold` checks have passed (wait with waitForHealth). Resolves when
   * the balancer has taken note, not when the target is healthy.
   */
  register(targetId: string): Promise<void>;
  /**
   * Its targets, where hactl can reach them itself (not from inside a container): the direct
   * path the run measures the balancer's overhead against.
   */
  directTargets?: readonly BalancerTarget[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const REGISTER_TIMEOUT_MS = 5_000;

/**
 * The port the balancer thread listens on, once it says so; or why it never will: the error it
 * reports, or the one that killed the thread (a module that failed to load, say), which comes
 * before its exit.
 */
export function untilListening(worker: EventEmitter, where: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    worker.on('message', (message: unknown) => {
      const read = readWorkerMessage(message);
      if (read.kind !== 'event') return;
      const event = read.event;
      if (event.type === 'listening') resolve(event.port);
      if (event.type === 'error') reject(new EnvironmentError(`balancer could not start on ${where}: ${event.message}`));
    });
    worker.once('error', (error: Error) => reject(new EnvironmentError(`balancer thread failed before listening on ${where}: ${error.message}`)));
    worker.once('exit', (code: number) => reject(new EnvironmentError(`balancer thread exited with code ${code} before listening on ${where}`)));
  });
}

/** hactl's balancer on a worker thread of the hactl process. */
export async function startBalancer(settings: BalancerSettings): Promise<Balancer> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: settings });
  const health = new HealthTracker(
    settings.targets.map((target) => target.id),
    Date.now(),
    (settings.initialTargetHealth ?? 'healthy') === 'healthy',
  );
  let stopping = false;
  const control = controlChannel(worker);
  // A malformed message is ignored (one that names a command fails that command): the balancer
  // keeps going, and a health change it garbled shows as a late change, which waits are bounded for.
  worker.on('message', (message: unknown) => {
    const read = readWorkerMessage(message);
    if (read.kind === 'event' && read.event.type === 'health') health.apply({ targetId: read.event.targetId, healthy: read.event.healthy, at: read.event.at });
    if (read.kind === 'reply') control.settle(read.reply);
    if (read.kind === 'bad' && read.requestId !== undefined) control.refuse(read.requestId, `the balancer thread sent ${read.problem}`);
  });
  const fail = (reason: string) => {
    control.failAll(stopping ? 'the balancer was stopped' : reason);
    if (!stopping) health.fail(reason);
  };
  worker.on('error', (error) => fail(`balancer thread failed: ${error.message}`));
  worker.on('exit', (code) => fail(`balancer thread exited with code ${code}`));

  const where = `${settings.host}:${settings.port === 0 ? '(free port)' : settings.port}`;
  let port: number;
  try {
    port = await withTimeout(untilListening(worker, where), START_TIMEOUT_MS, () => new EnvironmentError(`balancer did not start listening on ${where} within ${START_TIMEOUT_MS} ms`));
  } catch (error) {
    stopping = true;
    await worker.terminate();
    throw error;
  }

  const url = httpOrigin(settings.host, port);
  return {
    url,
    directTargets: settings.targets,
    isHealthy: (targetId) => health.isHealthy(targetId),
    waitForHealth: (targetId, healthy, timeoutMs, signal) => health.waitForHealth(targetId, healthy, timeoutMs, signal),
    healthChanges: (since) => health.history(since),
    failure: () => health.failure(),
    async deregister(targetId) {
      const limitMs = settings.deregistrationDelayMs + CONTROL_MARGIN_MS;
      const result = await control.send({ type: 'deregister', targetId }, limitMs);
      if (!result) throw new EnvironmentError(`the balancer thread answered deregister ${targetId} without a drain result`);
      return result;
    },
    async register(targetId) {
      await control.send({ type: 'register', targetId }, REGISTER_TIMEOUT_MS);
    },
    async stop() {
      stopping = true;
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (message: unknown) => readWorkerMessage(message).kind === 'stopped' && resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage({ type: 'stop' });
      await withTimeout(stopped, STOP_TIMEOUT_MS, () => new Error('balancer stop timed out')).catch(() => undefined);
      await worker.terminate();
    },
  };
}

type Command = Pick<ControlCommand, 'type' | 'targetId'>;

/** Commands to the balancer thread, each awaited for its own reply within a bound. */
function controlChannel(worker: Worker) {
  const pending = new Map<number, { resolve: (result: DrainResult | undefined) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let failed: string | undefined;
  return {
    send(command: Command, limitMs: number): Promise<DrainResult | undefined> {
      if (failed) return Promise.reject(new EnvironmentError(failed));
      const requestId = nextId++;
      const reply = new Promise<DrainResult | undefined>((resolve, reject) => pending.set(requestId, { resolve, reject }));
      worker.postMessage({ ...command, requestId });
      const what = `balancer did not answer ${command.type} ${command.targetId} within ${limitMs} ms`;
      return withTimeout(reply, limitMs, () => new EnvironmentError(what)).finally(() => pending.delete(requestId));
    },
    refuse(requestId: number, reason: string): void {
      pending.get(requestId)?.reject(new EnvironmentError(reason));
    },
    settle(reply: ControlReply): void {
      const waiter = pending.get(reply.requestId);
      if (!waiter) return;
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new EnvironmentError(reply.error));
    },
    failAll(reason: string): void {
      failed ??= reason;
      for (const waiter of pending.values()) waiter.reject(new EnvironmentError(reason));
      pending.clear();
    },
  };
}
