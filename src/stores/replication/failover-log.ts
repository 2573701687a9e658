import type { FailoverEvent } from '../store.js';

/**
 * A failover's steps as whoever decides it took them (hactl's controller, Sentinel, an election),
 * in order, and a bounded wait for the next one of a kind: what a killed primary's restart waits on.
 */
export class FailoverLog {
  private readonly log: FailoverEvent[] = [];
  private readonly listeners = new Set<() => void>();

  events(): readonly FailoverEvent[] {
    return this.log;
  }

  record(kind: FailoverEvent['kind'], node: { id: string }, detail?: string): void {
    this.log.push({ at: Date.now(), kind, node: node.id, ...(detail ? { detail } : {}) });
    for (const listener of this.listeners) listener();
  }

  /** The first step of `kind` at or after `sinceEpoch`; undefined when none came within `timeoutMs` or `signal` aborted. */
  waitFor(kind: FailoverEvent['kind'], sinceEpoch: number, timeoutMs: number, signal?: AbortSignal): Promise<FailoverEvent | undefined> {
    const find = () => this.log.find((event) => event.kind === kind && event.at >= sinceEpoch);
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const done = (event: FailoverEvent | undefined) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        signal?.removeEventListener('abort', aborted);
        resolve(event);
      };
      const check = () => {
        const event = find();
        if (event) done(event);
      };
      const aborted = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.listeners.add(check);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}
