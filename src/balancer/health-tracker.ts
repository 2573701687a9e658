import { EventEmitter } from 'node:events';
import { EnvironmentError } from '../platform/errors.js';

export interface HealthChange {
  targetId: string;
  healthy: boolean;
  /** Epoch milliseconds. */
  at: number;
}

/**
 * hactl's view of a balancer's target health, fed by the balancer's events wherever it runs (a
 * worker thread, a container): who is healthy since when, and whether the balancer itself died.
 */
export class HealthTracker {
  private readonly state = new Map<string, HealthChange>();
  private readonly changes = new EventEmitter();
  /** Every change applied, in order: what the run tells apart from the faults it fired. */
  private readonly log: HealthChange[] = [];
  private failed: string | undefined;

  /** `healthy` is how targets start: false for a balancer whose targets start in ALB's initial state. */
  constructor(targetIds: readonly string[], since: number, healthy = true) {
    for (const targetId of targetIds) this.state.set(targetId, { targetId, healthy, at: since });
  }

  apply(change: HealthChange): void {
    this.state.set(change.targetId, change);
    this.log.push(change);
    this.changes.emit('change', change);
  }

  fail(reason: string): void {
    if (this.failed) return;
    this.failed = reason;
    this.changes.emit('failed', reason);
  }

  failure(): string | undefined {
    return this.failed;
  }

  /** The changes applied since `since` (epoch milliseconds), oldest first. */
  history(since = 0): HealthChange[] {
    return this.log.filter((change) => change.at >= since);
  }

  isHealthy(targetId: string): boolean {
    return this.state.get(targetId)?.healthy ?? false;
  }

  /** Resolves once `targetId` is `healthy`, with the moment it became so; rejects after `timeoutMs`. */
  waitForHealth(targetId: string, healthy: boolean, timeoutMs: number, signal?: AbortSignal): Promise<HealthChange> {
    const current = this.state.get(targetId);
    if (current?.healthy === healthy) return Promise.resolve(current);
    if (this.failed) return Promise.reject(new EnvironmentError(this.failed));
    return new Promise<HealthChange>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.changes.off('change', onChange);
        this.changes.off('failed', onFailed);
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
      this.changes.on('change', onChange);
      this.changes.on('failed', onFailed);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
